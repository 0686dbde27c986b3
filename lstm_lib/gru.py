"""GRU sequence layer, exactly torch.nn.GRU (one layer, batch_first=True)."""
import numpy as np

from .recurrent import RecurrentLayer


class GRU(RecurrentLayer):
    """Batch-first GRU: forward(x (batch, time, input), h0=None) -> (batch, time, hidden).

    Parameters: W_x (input, 3H), W_h (H, 3H), b (3H,), b_hn (H,); gate blocks r, z, n
    (PyTorch's order). `b` holds torch's b_ih plus the r and z parts of b_hh; `b_hn`, the n
    part of b_hh, stays separate because the reset gate multiplies it:
    n = tanh(x W_xn + b_n + r * (h W_hn + b_hn)). Initialisation as in RecurrentLayer.
    """

    gates = 3
    state_names = ("h",)

    def __init__(self, input_size, hidden_size, stateful=False, dtype=np.float32, rng=None):
        super().__init__(input_size, hidden_size, stateful=stateful, dtype=dtype, rng=rng)
        self._add_param("b_hn", np.zeros(hidden_size, dtype))

    def forward(self, x, h0=None):
        return self._forward(x, [h0])

    def backward(self, dh, dh_T=None):
        """dh: (batch, time, hidden) gradient of the loss w.r.t. the outputs; returns dx."""
        return self._backward(dh, [dh_T])

    def _rz_scale(self):
        H = self.hidden_size
        s = np.ones(3 * H, self.dtype)
        s[:2 * H] = 0.5
        return s

    def _forward_tm(self, X, states):
        T, B, _ = X.shape
        H = self.hidden_size
        s = self._rz_scale()
        A = self._input_projection(X, scale=s)  # (T, B, 3H): r, z scaled by 1/2; n as is
        W_hs = self.params["W_h"] * s
        b_hn = self.params["b_hn"]
        Hs = self._state_buffer("H", T, B, states[0])  # (T+1, B, H)
        HN = self._buffer("HN", (T, B, H))  # h W_hn + b_hn, needed by backward
        gh = self._buffer("gh", (B, 3 * H))
        tmp = self._buffer("tmp", (B, H))
        gh_rz, gh_n = gh[:, :2 * H], gh[:, 2 * H:]
        steps = zip(Hs[:-1], Hs[1:], HN, A[..., :2 * H], A[..., :H], A[..., H:2 * H], A[..., 2 * H:])
        for h_prev, h, hn, rz, r, z, n in steps:  # per-step views, no Python indexing
            np.matmul(h_prev, W_hs, out=gh)
            rz += gh_rz
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5  # r, z = sigmoid(...)
            np.add(gh_n, b_hn, out=hn)
            np.multiply(r, hn, out=tmp)
            n += tmp
            np.tanh(n, out=n)  # n = tanh(x W_xn + b_n + r * (h W_hn + b_hn))
            np.subtract(h_prev, n, out=tmp)
            tmp *= z
            np.add(n, tmp, out=h)  # h = n + z * (h_prev - n)
        return Hs, [Hs[T]]

    def _backward_tm(self, dH, dfinal):
        T, B, H = dH.shape
        A, Hs, HN = self._buffers["Z"], self._buffers["H"], self._buffers["HN"]
        D = self._buffer("D", A.shape)  # local derivatives, all steps at once
        np.subtract(1, A, out=D)
        D *= A  # sigmoid' for r, z
        np.multiply(A[..., 2 * H:], A[..., 2 * H:], out=D[..., 2 * H:])
        np.subtract(1, D[..., 2 * H:], out=D[..., 2 * H:])  # tanh' for n
        dGx = self._buffer("dGx", A.shape)  # (T, B, 3H) input-side pre-activations
        dGh = self._buffer("dGh", A.shape)  # (T, B, 3H) hidden-side pre-activations
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # (G*H, H): a contiguous copy
        # multiplies faster in the loop than the transposed view
        dh_next = dfinal[0].copy()
        direct = self._buffer("direct", (B, H))
        steps = zip(dH[::-1], dGx[::-1], dGh[::-1], D[::-1], Hs[-2::-1], A[::-1, :, :H],
                    A[::-1, :, H:2 * H], A[::-1, :, 2 * H:], HN[::-1])
        for dh_out, dx, dh, dlocal, h_prev, r, z, n, hn in steps:  # last step first
            dh_next += dh_out  # total gradient at h_t
            np.subtract(h_prev, n, out=direct)
            np.multiply(dh_next, direct, out=dx[:, H:2 * H])  # dz
            np.multiply(dh_next, z, out=direct)  # the part that skips the cell: dh * z
            np.subtract(dh_next, direct, out=dx[:, 2 * H:])  # dn = dh * (1 - z)
            dx[:, 2 * H:] *= dlocal[:, 2 * H:]  # through tanh
            np.multiply(dx[:, 2 * H:], hn, out=dx[:, :H])  # dr
            np.multiply(dx[:, 2 * H:], r, out=dh[:, 2 * H:])  # d(h W_hn + b_hn)
            dx[:, :2 * H] *= dlocal[:, :2 * H]  # through the sigmoids
            dh[:, :2 * H] = dx[:, :2 * H]
            np.matmul(dh, W_hT, out=dh_next)
            dh_next += direct  # dh_{t-1}
        np.sum(dGh[..., 2 * H:].reshape(T * B, H), axis=0, out=self.grads["b_hn"])
        return dGx, dGh, [dh_next]
