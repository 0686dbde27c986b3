"""GRU sequence layer, exactly torch.nn.GRU (one layer, batch_first=True), and its stream.
Chapter 09 teaches it; `cells.gru_step` is the readable step."""
from typing import NamedTuple

import numpy as np

from .recurrent import RecurrentLayer, Stream


class GRUSaved(NamedTuple):
    """What GRU.forward keeps for backward, time-major."""

    x: np.ndarray  # (T, B, I) the input
    hidden: np.ndarray  # (T+1, B, H) h_0 .. h_T
    gate_values: np.ndarray  # (T, B, 3H) r, z after their sigmoid, n after its tanh
    hn: np.ndarray  # (T, B, H) h_{t-1} W_hn + b_hn, which the reset gate multiplies


def rz_scale(H, dtype):
    """1/2 on the r and z columns (a sigmoid is 0.5 tanh(z / 2) + 0.5), 1 on n's."""
    s = np.ones(3 * H, dtype)
    s[:2 * H] = 0.5
    return s


class GRU(RecurrentLayer):
    """Batch-first GRU: forward(x (batch, time, input), h0=None) -> (batch, time, hidden).

    Parameters: W_x (input, 3H), W_h (H, 3H), b (3H,), b_hn (H,); gate blocks r, z, n
    (PyTorch's order). `b` holds torch's b_ih plus the r and z parts of b_hh; `b_hn`, the n
    part of b_hh, stays separate because the reset gate multiplies it:
    n = tanh(x W_xn + b_n + r * (h W_hn + b_hn)). Initialisation as in RecurrentLayer.
    `stream()` runs it one step at a time (real-time use).
    """

    gates = 3
    state_names = ("h",)

    def __init__(self, input_size, hidden_size, stateful=False, dtype=np.float32, rng=None):
        super().__init__(input_size, hidden_size, stateful=stateful, dtype=dtype, rng=rng)
        self._add_param("b_hn", np.zeros(hidden_size, dtype))

    def _forward_tm(self, X, states):
        T, B, _ = X.shape
        H = self.hidden_size
        s = rz_scale(H, self.dtype)
        # (T, B, 3H): r, z pre-activations scaled by 1/2; n's input part as is
        A = self._input_projection(X, self._reuse("gate_values", (T, B, 3 * H)), scale=s)
        Hs = self._reuse("hidden", (T + 1, B, H))
        HN = self._reuse("hn", (T, B, H))
        Hs[0] = states[0]
        self._forward_loop(A, Hs, HN, self.params["W_h"] * s, self.params["b_hn"])
        return GRUSaved(X, Hs, A, HN), [Hs[T]]

    def _forward_loop(self, A, Hs, HN, W_hs, b_hn):
        """The time loop. A (T, B, 3H) holds the scaled input parts and becomes the gate values
        r, z, n; Hs (T+1, B, H) holds h_0 and gets h_t; HN (T, B, H) gets h_{t-1} W_hn + b_hn."""
        H = self.hidden_size
        tanh, add, sub, mul = np.tanh, np.add, np.subtract, np.multiply
        half = np.full(2 * H, 0.5, self.dtype)
        gh = np.empty(A.shape[1:], self.dtype)  # (B, 3H)
        tmp = np.empty(HN.shape[1:], self.dtype)  # (B, H)
        gh_rz, gh_n = gh[:, :2 * H], gh[:, 2 * H:]
        steps = zip(Hs[:-1], Hs[1:], HN, A[..., :2 * H], A[..., :H], A[..., H:2 * H],
                    A[..., 2 * H:])
        for h_prev, h, hn, rz, r, z, n in steps:  # per-step views, no Python indexing
            h_prev.dot(W_hs, out=gh)
            add(rz, gh_rz, rz)
            tanh(rz, rz)
            mul(rz, half, rz)
            add(rz, half, rz)  # r, z = sigmoid(...)
            add(gh_n, b_hn, hn)
            mul(r, hn, tmp)
            add(n, tmp, n)
            tanh(n, n)  # n = tanh(x W_xn + b_n + r * (h W_hn + b_hn))
            sub(h_prev, n, tmp)
            mul(tmp, z, tmp)
            add(n, tmp, h)  # h = n + z * (h_prev - n)

    def _backward_tm(self, saved, dH, dfinal):
        T, B, H = dH.shape
        A, Hs, HN = saved.gate_values, saved.hidden, saved.hn
        D = self._reuse("local_grads", A.shape)  # local derivatives, all steps at once
        dGx = self._reuse("dgates_x", A.shape)  # (T, B, 3H) input-side pre-activations
        dGh = self._reuse("dgates_h", A.shape)  # (T, B, 3H) hidden-side pre-activations
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # (3H, H): a contiguous copy
        # multiplies faster in the loop than the transposed view
        dh0 = dfinal[0].copy()
        self._backward_loop(A, D, dGx, dGh, Hs, HN, dH, dh0, W_hT)
        np.sum(dGh[..., 2 * H:].reshape(T * B, H), axis=0, out=self.grads["b_hn"])
        return dGx, dGh, [dh0]

    def _backward_loop(self, A, D, dGx, dGh, Hs, HN, dH, dh, W_hT):
        """The backward time loop, last step first: fills dGx and dGh (T, B, 3H), the gradients
        w.r.t. the input-side and hidden-side pre-activations, D with the local derivatives;
        dh (B, H) starts as the gradient at the final state and ends as the one at h_0."""
        H = self.hidden_size
        add, sub, mul = np.add, np.subtract, np.multiply
        sub(1, A, D)
        mul(D, A, D)  # sigmoid' for r, z
        mul(A[..., 2 * H:], A[..., 2 * H:], D[..., 2 * H:])
        sub(1, D[..., 2 * H:], D[..., 2 * H:])  # tanh' for n
        direct = np.empty(dh.shape, self.dtype)
        x_, h_, a_, d_ = dGx[::-1], dGh[::-1], A[::-1], D[::-1]
        steps = zip(dH[::-1], h_, Hs[-2::-1], a_[..., :H], a_[..., H:2 * H], a_[..., 2 * H:],
                    HN[::-1], x_[..., :H], x_[..., H:2 * H], x_[..., 2 * H:], x_[..., :2 * H],
                    h_[..., :2 * H], h_[..., 2 * H:], d_[..., :2 * H], d_[..., 2 * H:])
        for (dh_out, dgh, h_prev, r, z, n, hn, dr, dz, dn, drz, dgh_rz, dgh_n, d_rz,
             d_n) in steps:  # last step first
            add(dh, dh_out, dh)  # total gradient at h_t
            sub(h_prev, n, direct)
            mul(dh, direct, dz)
            mul(dh, z, direct)  # the part that skips the cell: dh * z
            sub(dh, direct, dn)  # dn = dh * (1 - z)
            mul(dn, d_n, dn)  # through tanh
            mul(dn, hn, dr)
            mul(dn, r, dgh_n)  # d(h W_hn + b_hn)
            mul(drz, d_rz, drz)  # through the sigmoids
            dgh_rz[...] = drz
            dgh.dot(W_hT, out=dh)
            add(dh, direct, dh)  # dh_{t-1}


class GRUStream(Stream):
    """A GRU one step at a time (see `RecurrentLayer.stream`)."""

    def __init__(self, layer, batch_size=1):
        super().__init__(layer, batch_size)
        H, dt = self.hidden_size, self.dtype
        s = rz_scale(H, dt)
        # input side [x | 1] @ [W_x; b]; hidden side h @ W_h + [0, 0, b_hn]; r, z scaled by 1/2
        self._x1, self._Wx = self._stack(layer, s, with_h=False)
        self._Wh = np.ascontiguousarray(layer.params["W_h"] * s)
        self._bh = np.concatenate([np.zeros(2 * H, dt), layer.params["b_hn"]]).astype(dt)
        self._gx, self._gh = np.empty((batch_size, 3 * H), dt), np.empty((batch_size, 3 * H), dt)
        self._tmp, self._half = np.empty((batch_size, H), dt), np.full(2 * H, 0.5, dt)
        gx, gh = self._gx, self._gh
        self._views = (gx[:, :2 * H], gx[:, :H], gx[:, H:2 * H], gx[:, 2 * H:], gh[:, :2 * H],
                       gh[:, 2 * H:])

    def step(self, x_t):
        """x_t (batch, input) -> h_t (batch, hidden); h carried to the next step."""
        add, mul = np.add, np.multiply
        self._x[...] = self._check(x_t)
        gx, gh, tmp, h, half = self._gx, self._gh, self._tmp, self._h, self._half
        rz, r, z, n, gh_rz, gh_n = self._views
        self._x1.dot(self._Wx, out=gx)
        h.dot(self._Wh, out=gh)
        add(gh, self._bh, gh)
        add(rz, gh_rz, rz)
        np.tanh(rz, rz)
        mul(rz, half, rz)
        add(rz, half, rz)  # r, z
        mul(r, gh_n, tmp)
        add(n, tmp, n)
        np.tanh(n, n)  # n = tanh(x W_xn + b_n + r * (h W_hn + b_hn))
        np.subtract(h, n, tmp)
        mul(tmp, z, tmp)
        return add(n, tmp, h).copy()  # h = n + z * (h_prev - n)


GRU.stream_class = GRUStream
