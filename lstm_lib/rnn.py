"""Vanilla (Elman) RNN sequence layer, h_t = tanh(x_t W_x + h_{t-1} W_h + b), as torch.nn.RNN."""
import numpy as np

from .recurrent import RecurrentLayer


class RNN(RecurrentLayer):
    """Batch-first tanh RNN: forward(x (batch, time, input), h0=None) -> (batch, time, hidden).

    After forward, `state` is (h_T,); after backward, `dstate0` is (dh0,).
    With stateful=True the final h is carried into the next call until reset_state().
    """

    gates = 1
    state_names = ("h",)

    def forward(self, x, h0=None):
        return self._forward(x, [h0])

    def backward(self, dh, dh_T=None):
        """dh: (batch, time, hidden) gradient of the loss w.r.t. the outputs; returns dx."""
        return self._backward(dh, [dh_T])

    def _forward_tm(self, X, states):
        T, B, _ = X.shape
        Z = self._input_projection(X)  # (T, B, H)
        Hs = self._state_buffer("H", T, B, states[0])  # (T+1, B, H)
        W_h = self.params["W_h"]
        for h_prev, h, z in zip(Hs[:-1], Hs[1:], Z):  # per-step views, no Python indexing
            np.matmul(h_prev, W_h, out=h)
            h += z
            np.tanh(h, out=h)
        return Hs, [Hs[T]]

    def _backward_tm(self, dH, dfinal):
        T, B, H = dH.shape
        Hs = self._buffers["H"]
        dZ = self._buffer("dZ", (T, B, H))
        np.multiply(Hs[1:], Hs[1:], out=dZ)
        np.subtract(1, dZ, out=dZ)  # tanh'(a_t) for every step at once
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # (G*H, H): a contiguous copy
        # multiplies faster in the loop than the transposed view
        dh_next = dfinal[0].copy()
        for dh_out, dz in zip(dH[::-1], dZ[::-1]):  # last step first
            dh_next += dh_out  # total gradient at h_t: from the output and from step t+1
            dz *= dh_next  # through the tanh
            np.matmul(dz, W_hT, out=dh_next)  # on to h_{t-1}
        return dZ, dZ, [dh_next]
