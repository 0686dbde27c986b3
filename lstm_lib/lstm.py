"""LSTM sequence layer, exactly torch.nn.LSTM (one layer, batch_first=True), and its stream.

Chapter 05 builds the LSTM step by step and `reference.ReferenceLSTM` keeps that readable
form; this module is the fast form of the same equations, and chapter 13 shows how one gets
from the first to the second.
"""
from typing import NamedTuple

import numpy as np

from .recurrent import RecurrentLayer, Stream


class LSTMSaved(NamedTuple):
    """What LSTM.forward keeps for backward, time-major."""

    x: np.ndarray  # (T, B, I) the input
    hidden: np.ndarray  # (T+1, B, H) h_0 .. h_T
    cells: np.ndarray  # (T+1, B, H) c_0 .. c_T
    gate_values: np.ndarray  # (T, B, 4H) i, f, g, o after their sigmoid / tanh
    tanh_c: np.ndarray  # (T, B, H) tanh(c_t)


def gate_scale(H, dtype):
    """Per column of the 4H gates: tanh(s z) * s + m gives sigmoid (s = m = 0.5) or tanh
    (s = 1, m = 0), so that one tanh call covers all four gates."""
    s = np.full(4 * H, 0.5, dtype)
    s[2 * H:3 * H] = 1.0
    m = np.full(4 * H, 0.5, dtype)
    m[2 * H:3 * H] = 0.0
    return s, m


class LSTM(RecurrentLayer):
    """Batch-first LSTM: forward(x (batch, time, input), h0=None, c0=None) -> (batch, time, hidden).

    Parameters: W_x (input, 4H), W_h (H, 4H), b (4H,), gate blocks i, f, g, o (PyTorch's order).
    Initialisation: W_x uniform in +-1/sqrt(H) (as torch.nn.LSTM); each gate's (H, H) block of
    W_h a random orthogonal matrix; biases zero except the forget gate's, `forget_bias`
    (default 1.0), so the cell keeps its content at the start of training.

    After forward, `state` is (h_T, c_T); after backward, `dstate0` is (dh0, dc0).
    With stateful=True the final (h, c) is carried into the next call until reset_state():
    the forward output over chunks equals the output over the whole sequence, and the
    gradient stops at the chunk boundary (truncated BPTT). `stream()` runs it one step at a
    time (real-time use).

    The fast path computes each sigmoid as 0.5 * tanh(0.5 z) + 0.5 so that one tanh call
    covers all four gates; it equals the readable `cells.lstm_step` to rounding.
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(self, input_size, hidden_size, forget_bias=1.0, stateful=False,
                 dtype=np.float32, rng=None):
        super().__init__(input_size, hidden_size, stateful=stateful, dtype=dtype, rng=rng)
        H = hidden_size
        self.params["b"][H:2 * H] = forget_bias

    def forward(self, x, h0=None, c0=None):
        return self._forward(x, [h0, c0])

    def backward(self, dh, dh_T=None, dc_T=None):
        """dh: (batch, time, hidden) gradient of the loss w.r.t. the outputs; returns dx.
        dh_T, dc_T: optional gradients arriving at the final state."""
        return self._backward(dh, [dh_T, dc_T])

    def _forward_tm(self, X, states):
        T, B, _ = X.shape
        H = self.hidden_size
        s, m = gate_scale(H, self.dtype)
        A = self._input_projection(X, self._reuse("gate_values", (T, B, 4 * H)), scale=s)
        Hs = self._reuse("hidden", (T + 1, B, H))
        Cs = self._reuse("cells", (T + 1, B, H))
        TC = self._reuse("tanh_c", (T, B, H))
        Hs[0], Cs[0] = states
        self._forward_loop(A, Hs, Cs, TC, self.params["W_h"] * s, s, m)
        return LSTMSaved(X, Hs, Cs, A, TC), [Hs[T], Cs[T]]

    def _forward_loop(self, A, Hs, Cs, TC, W_hs, s, m):
        """The time loop. A (T, B, 4H) holds (x_t W_x + b) * s and becomes the gate values;
        Hs, Cs (T+1, B, H) hold h_0, c_0 and get h_t, c_t; TC (T, B, H) gets tanh(c_t)."""
        H = self.hidden_size
        tanh, add, mul = np.tanh, np.add, np.multiply
        gh = np.empty(A.shape[1:], self.dtype)  # (B, 4H)
        ig = np.empty(TC.shape[1:], self.dtype)  # (B, H)
        # zip hands out the per-step views (slices of the buffers) without Python indexing
        steps = zip(A, Hs[:-1], Hs[1:], Cs[:-1], Cs[1:], TC, A[..., :H], A[..., H:2 * H],
                    A[..., 2 * H:3 * H], A[..., 3 * H:])
        for a, h_prev, h, c_prev, c, tc, i, f, g, o in steps:
            h_prev.dot(W_hs, out=gh)
            add(a, gh, a)
            tanh(a, a)
            mul(a, s, a)
            add(a, m, a)  # now the gate values i, f, g, o
            mul(f, c_prev, c)
            mul(i, g, ig)
            add(c, ig, c)  # c_t = f * c_{t-1} + i * g
            tanh(c, tc)
            mul(o, tc, h)  # h_t = o * tanh(c_t)

    def _backward_tm(self, saved, dH, dfinal):
        A, Cs, TC = saved.gate_values, saved.cells, saved.tanh_c
        dG = self._reuse("dgates", A.shape)  # (T, B, 4H) gradient w.r.t. pre-activations
        # what each gradient is multiplied by on its way through a step, for all steps at once
        mult = self._reuse("multipliers", (5, *TC.shape))
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # (4H, H): a contiguous copy
        # multiplies faster in the loop than the transposed view
        dh0, dc0 = dfinal[0].copy(), dfinal[1].copy()
        self._backward_loop(A, Cs, TC, mult, dH, dG, dh0, dc0, W_hT)
        return dG, dG, [dh0, dc0]

    def _backward_loop(self, A, Cs, TC, mult, dH, dG, dh, dc_next, W_hT):
        """The backward time loop, last step first. dH (T, B, H) is the gradient arriving at
        the outputs; dG (T, B, 4H) gets the gradient w.r.t. the pre-activations; dh, dc_next
        (B, H) start as the gradients at the final state and end as those at the initial one."""
        H = self.hidden_size
        add, sub, mul = np.add, np.subtract, np.multiply
        i, f, g, o = A[..., :H], A[..., H:2 * H], A[..., 2 * H:3 * H], A[..., 3 * H:]
        c_prev, (p, q, mi, mf, mg) = Cs[:-1], mult
        tmp = np.empty(TC.shape, self.dtype)
        sub(1, o, tmp), mul(tmp, o, tmp), mul(tmp, TC, q)  # dh -> do: tanh(c) o (1 - o)
        mul(TC, TC, tmp), sub(1, tmp, tmp), mul(tmp, o, p)  # dh -> dc: o (1 - tanh(c)^2)
        sub(1, i, tmp), mul(tmp, i, tmp), mul(tmp, g, mi)  # dc -> di: g i (1 - i)
        sub(1, f, tmp), mul(tmp, f, tmp), mul(tmp, c_prev, mf)  # dc -> df: c_prev f (1 - f)
        mul(g, g, tmp), sub(1, tmp, tmp), mul(tmp, i, mg)  # dc -> dg: i (1 - g^2)
        dc = tmp[0]
        d_ = dG[::-1]
        steps = zip(dH[::-1], d_, d_[..., :H], d_[..., H:2 * H], d_[..., 2 * H:3 * H],
                    d_[..., 3 * H:], p[::-1], q[::-1], mi[::-1], mf[::-1], mg[::-1], f[::-1])
        for dh_out, dz, di, df, dg, do, p_t, q_t, mi_t, mf_t, mg_t, f_t in steps:
            add(dh, dh_out, dh)  # total gradient at h_t
            mul(dh, q_t, do)
            mul(dh, p_t, dc)
            add(dc, dc_next, dc)  # dc_t: through h_t and along the highway from c_{t+1}
            mul(dc, mi_t, di)
            mul(dc, mf_t, df)
            mul(dc, mg_t, dg)
            mul(dc, f_t, dc_next)  # dc_{t-1}: only a multiply by f
            dz.dot(W_hT, out=dh)  # dh_{t-1}


class LSTMStream(Stream):
    """An LSTM one step at a time (see `RecurrentLayer.stream`)."""

    def __init__(self, layer, batch_size=1):
        super().__init__(layer, batch_size)
        H = self.hidden_size
        self._s, self._m = gate_scale(H, self.dtype)
        self._hx1, self._W = self._stack(layer, self._s)  # (B, H + I + 1), (H + I + 1, 4H)
        self._a = np.empty((batch_size, 4 * H), self.dtype)
        self._c = np.zeros((batch_size, H), self.dtype)
        self._ig = np.empty((batch_size, H), self.dtype)
        a = self._a
        self._i, self._f, self._g, self._o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]

    def step(self, x_t):
        """x_t (batch, input) -> h_t (batch, hidden); (h, c) carried to the next step."""
        self._x[...] = self._check(x_t)
        a, c, ig, mul, add = self._a, self._c, self._ig, np.multiply, np.add
        self._hx1.dot(self._W, out=a)  # [h | x | 1] @ [W_h; W_x; b], scaled
        np.tanh(a, a)
        mul(a, self._s, a)
        add(a, self._m, a)  # gate values i, f, g, o
        mul(self._f, c, c)
        mul(self._i, self._g, ig)
        add(c, ig, c)
        np.tanh(c, ig)
        return mul(self._o, ig, self._h).copy()

    def _state_arrays(self):
        return (self._h, self._c)


LSTM.stream_class = LSTMStream
