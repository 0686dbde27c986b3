"""LSTM sequence layer, exactly torch.nn.LSTM (one layer, batch_first=True)."""
import numpy as np

from .recurrent import RecurrentLayer


class LSTM(RecurrentLayer):
    """Batch-first LSTM: forward(x (batch, time, input), h0=None, c0=None) -> (batch, time, hidden).

    Parameters: W_x (input, 4H), W_h (H, 4H), b (4H,), gate blocks i, f, g, o (PyTorch's order).
    Initialisation: W_x uniform in +-1/sqrt(H) (as torch.nn.LSTM); each gate's (H, H) block of
    W_h a random orthogonal matrix; biases zero except the forget gate's, `forget_bias`
    (default 1.0), so the cell keeps its content at the start of training.

    After forward, `state` is (h_T, c_T); after backward, `dstate0` is (dh0, dc0).
    With stateful=True the final (h, c) is carried into the next call until reset_state():
    the forward output over chunks equals the output over the whole sequence, and the
    gradient stops at the chunk boundary (truncated BPTT).

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

    def _gate_columns(self):
        """Per column: tanh(s z) * s + m gives sigmoid (s = m = 0.5) or tanh (s = 1, m = 0)."""
        H = self.hidden_size
        s = np.full(4 * H, 0.5, self.dtype)
        s[2 * H:3 * H] = 1.0
        m = np.full(4 * H, 0.5, self.dtype)
        m[2 * H:3 * H] = 0.0
        return s, m

    def _forward_tm(self, X, states):
        T, B, _ = X.shape
        H = self.hidden_size
        s, m = self._gate_columns()
        A = self._input_projection(X, scale=s)  # (T, B, 4H), pre-activations, scaled
        W_hs = self.params["W_h"] * s  # (H, 4H)
        Hs = self._state_buffer("H", T, B, states[0])  # (T+1, B, H)
        Cs = self._state_buffer("C", T, B, states[1])  # (T+1, B, H)
        TC = self._buffer("TC", (T, B, H))  # tanh(c_t)
        gh = self._buffer("gh", (B, 4 * H))
        ig = self._buffer("ig", (B, H))
        # zip hands out the per-step views (slices of the buffers) without Python indexing
        steps = zip(A, Hs[:-1], Hs[1:], Cs[:-1], Cs[1:], TC, A[..., :H], A[..., H:2 * H],
                    A[..., 2 * H:3 * H], A[..., 3 * H:])
        for a, h_prev, h, c_prev, c, tc, i, f, g, o in steps:
            np.matmul(h_prev, W_hs, out=gh)
            a += gh
            np.tanh(a, out=a)
            a *= s
            a += m  # now the gate values i, f, g, o
            np.multiply(f, c_prev, out=c)
            np.multiply(i, g, out=ig)
            c += ig  # c_t = f * c_{t-1} + i * g
            np.tanh(c, out=tc)
            np.multiply(o, tc, out=h)  # h_t = o * tanh(c_t)
        return Hs, [Hs[T], Cs[T]]

    def _backward_tm(self, dH, dfinal):
        _, B, H = dH.shape
        A, Cs, TC = self._buffers["Z"], self._buffers["C"], self._buffers["TC"]
        D = self._buffer("D", A.shape)  # (T, B, 4H)
        np.subtract(1, A, out=D)
        D *= A  # sigmoid' = a (1 - a)
        np.multiply(A[..., 2 * H:3 * H], A[..., 2 * H:3 * H], out=D[..., 2 * H:3 * H])
        np.subtract(1, D[..., 2 * H:3 * H], out=D[..., 2 * H:3 * H])  # tanh' = 1 - g^2
        P = self._buffer("P", TC.shape)  # o * tanh'(c): how h_t passes gradient to c_t
        np.multiply(TC, TC, out=P)
        np.subtract(1, P, out=P)
        P *= A[..., 3 * H:]
        dG = self._buffer("dG", A.shape)  # (T, B, 4H) gradient w.r.t. pre-activations
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # (G*H, H): a contiguous copy
        # multiplies faster in the loop than the transposed view
        dh_next, dc_next = dfinal[0].copy(), dfinal[1].copy()
        dc = self._buffer("dc", (B, H))
        steps = zip(dH[::-1], dG[::-1], D[::-1], P[::-1], TC[::-1], Cs[-2::-1], A[::-1, :, :H],
                    A[::-1, :, H:2 * H], A[::-1, :, 2 * H:3 * H], dG[::-1, :, :H],
                    dG[::-1, :, H:2 * H], dG[::-1, :, 2 * H:3 * H], dG[::-1, :, 3 * H:])
        for dh_out, d, dlocal, p, tc, c_prev, i, f, g, di, df, dg, do in steps:
            dh_next += dh_out  # total gradient at h_t
            np.multiply(dh_next, tc, out=do)
            np.multiply(dh_next, p, out=dc)
            dc += dc_next  # dc_t: through h_t and along the highway from c_{t+1}
            np.multiply(dc, g, out=di)
            np.multiply(dc, c_prev, out=df)
            np.multiply(dc, i, out=dg)
            np.multiply(dc, f, out=dc_next)  # dc_{t-1}: only a multiply by f
            d *= dlocal  # through the gate nonlinearities
            np.matmul(d, W_hT, out=dh_next)  # dh_{t-1}
        return dG, dG, [dh_next, dc_next]
