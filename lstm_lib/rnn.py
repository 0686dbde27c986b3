"""Vanilla (Elman) RNN sequence layer, h_t = tanh(x_t W_x + h_{t-1} W_h + b), as torch.nn.RNN,
and its stream. Chapter 01 teaches it; `cells.rnn_step` is the readable step."""
from typing import NamedTuple

import numpy as np

from .recurrent import RecurrentLayer, Stream


class RNNSaved(NamedTuple):
    """What RNN.forward keeps for backward, time-major."""

    x: np.ndarray  # (T, B, I) the input
    hidden: np.ndarray  # (T+1, B, H) h_0 .. h_T


class RNN(RecurrentLayer):
    """Batch-first tanh RNN: forward(x (batch, time, input), h0=None) -> (batch, time, hidden).

    After forward, `state` is (h_T,); after backward, `dstate0` is (dh0,).
    With stateful=True the final h is carried into the next call until reset_state().
    `stream()` runs it one step at a time (real-time use).
    """

    gates = 1
    state_names = ("h",)

    def _forward_tm(self, X, states):
        T, B, _ = X.shape
        H = self.hidden_size
        Hs = self._reuse("hidden", (T + 1, B, H))
        self._input_projection(X, Hs[1:])  # x_t W_x + b, turned into h_t in the loop
        Hs[0] = states[0]
        self._forward_loop(Hs, self.params["W_h"])
        return RNNSaved(X, Hs), [Hs[T]]

    def _forward_loop(self, Hs, W_h):
        """The time loop: Hs (T+1, B, H) holds h_0 and the input parts, and gets h_t."""
        add, tanh = np.add, np.tanh
        hw = np.empty(Hs.shape[1:], self.dtype)  # (B, H)
        for h_prev, h in zip(Hs[:-1], Hs[1:]):  # per-step views
            h_prev.dot(W_h, out=hw)
            add(h, hw, h)
            tanh(h, h)

    def _backward_tm(self, saved, dH, dfinal):
        dZ = self._reuse("dpre", dH.shape)  # (T, B, H) gradient w.r.t. the pre-activations
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # (H, H): a contiguous copy
        # multiplies faster in the loop than the transposed view
        dh0 = dfinal[0].copy()
        self._backward_loop(saved.hidden, dZ, dH, dh0, W_hT)
        return dZ, dZ, [dh0]

    def _backward_loop(self, Hs, dZ, dH, dh, W_hT):
        """The backward time loop, last step first: dZ (T, B, H) gets the gradient w.r.t. the
        pre-activations; dh (B, H) starts at the final state's gradient and ends at h_0's."""
        add, mul = np.add, np.multiply
        mul(Hs[1:], Hs[1:], dZ)
        np.subtract(1, dZ, dZ)  # tanh'(a_t) for every step at once
        for dh_out, dz in zip(dH[::-1], dZ[::-1]):  # last step first
            add(dh, dh_out, dh)  # total gradient at h_t: from the output and from step t+1
            mul(dz, dh, dz)  # through the tanh
            dz.dot(W_hT, out=dh)  # on to h_{t-1}


class RNNStream(Stream):
    """A vanilla RNN one step at a time (see `RecurrentLayer.stream`)."""

    def __init__(self, layer, batch_size=1):
        super().__init__(layer, batch_size)
        self._hx1, self._W = self._stack(layer, 1.0)  # [h | x | 1], [W_h; W_x; b]
        self._a = np.empty((batch_size, self.hidden_size), self.dtype)

    def step(self, x_t):
        """x_t (batch, input) -> h_t (batch, hidden); h carried to the next step."""
        self._x[...] = self._check(x_t)
        self._hx1.dot(self._W, out=self._a)
        return np.tanh(self._a, self._h).copy()


RNN.stream_class = RNNStream
