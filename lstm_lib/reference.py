"""The LSTM as a reader meets it: one time step at a time, the equations of `cells`.

`ReferenceLSTM` is the readable sequence layer (chapters 05 and 06 build it line by line):
the forward pass calls `cells.lstm_step` once per step, the backward pass walks back with
`cells.lstm_gates_backward` and adds each step's share to the weight gradients. It computes
the same function as the fast `lstm.LSTM` (same parameter names and layout, same
initialisation), and the tests hold the two equal. Use it to read, to change (chapter 08
plants bugs in subclasses, chapter 14 builds variants on it, chapter 13 starts its speed-ups
from it), and as the oracle for the fast layer; use `lstm.LSTM` to train.

Subclasses change one small method each:
  step(x_t, h, c)                 -> h, c, cache        one step forward
  gates_backward(dh, dc, cache)   -> dz, dc_prev        through the gates and the cell
  input_grad(dz)                  -> dx_t               dz W_x^T
  carry(dc_prev)                  -> what goes back along the highway to step t-1
  new_grad(param)                 -> where a weight gradient starts (zeros)
"""
import numpy as np

from . import cells
from .base import Layer
from .init import recurrent_init
from .seeding import get_rng
from .state import CarriedState
from .validation import as_float_array, check_rank, check_shape


class ReferenceLSTM(CarriedState, Layer):
    """Batch-first LSTM written for reading: forward(x (batch, time, input), h0=None, c0=None)
    -> (batch, time, hidden); backward(dh, dh_T=None, dc_T=None) -> dx, fills `grads` and
    `dstate0`. Parameters W_x (input, 4H), W_h (H, 4H), b (4H,), gate blocks i, f, g, o,
    drawn by `init.recurrent_init` as lstm.LSTM(input_size, hidden_size, forget_bias) draws
    them (the same weights for the same generator). It carries its state as every recurrent
    layer does (`state`: stateful=True carries (h, c) into the next call until reset_state())."""

    def __init__(self, input_size, hidden_size, forget_bias=1.0, dtype=np.float32, rng=None,
                 stateful=False):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, "
                             f"got {input_size} and {hidden_size}")
        for name, value in recurrent_init(input_size, hidden_size, 4, rng or get_rng(),
                                          dtype).items():
            self._add_param(name, value)
        self.params["b"][hidden_size:2 * hidden_size] = forget_bias
        self.input_size, self.hidden_size, self.stateful = input_size, hidden_size, stateful
        self._cache = None
        self.state = None  # (h_T, c_T) after forward
        self.dstate0 = None  # (dh_0, dc_0) after backward

    @classmethod
    def from_layer(cls, layer, dtype=None):
        """A copy with the same weights as another LSTM layer (lstm.LSTM or a ReferenceLSTM)."""
        new = cls(layer.input_size, layer.hidden_size, dtype=dtype or layer.dtype)
        for name, value in layer.params.items():
            new.params[name][...] = value
        return new

    # --- the pieces subclasses change ---------------------------------------------------------

    def step(self, x_t, h, c):
        """One step forward: cells.lstm_step with this layer's weights."""
        p = self.params
        return cells.lstm_step(x_t, h, c, p["W_x"], p["W_h"], p["b"])

    def gates_backward(self, dh, dc, cache):
        """dz (batch, 4H) and dc_prev from the gradients arriving at h_t and c_t."""
        return cells.lstm_gates_backward(dh, dc, cache)

    def input_grad(self, dz):
        """dx_t = dz_t W_x^T: (B, 4H) @ (4H, I) -> (B, I)."""
        return dz @ self.params["W_x"].T

    def carry(self, dc_prev):
        """What goes back along the highway to step t-1: dc_t * f_t, unchanged."""
        return dc_prev

    def new_grad(self, param):
        """Where a weight gradient starts before the steps add their parts: zeros."""
        return np.zeros_like(param)

    # --- the sequence ---------------------------------------------------------------------

    def forward(self, x, h0=None, c0=None):
        check_rank(x, 3, "(batch, time, features)", "x")
        x = as_float_array(x, "x", self.dtype)
        B, T, _ = x.shape
        H = self.hidden_size
        check_shape(x, (B, T, self.input_size), "x")
        h0, c0 = self._start_state([h0, c0], B)  # a state carried from the last call, if any
        h = np.zeros((B, H), self.dtype) if h0 is None else as_float_array(h0, "h0", self.dtype)
        c = np.zeros((B, H), self.dtype) if c0 is None else as_float_array(c0, "c0", self.dtype)
        check_shape(h, (B, H), "h0")
        check_shape(c, (B, H), "c0")
        out = np.empty((B, T, H), self.dtype)
        caches = []
        for t in range(T):
            h, c, cache = self.step(x[:, t], h, c)  # (B, H), (B, H)
            out[:, t] = h
            caches.append(cache)
        self._cache = caches
        self._end_state(h, c)
        return out

    def backward(self, dh, dh_T=None, dc_T=None):
        """dh: (batch, time, hidden) gradient of the loss w.r.t. the outputs; returns dx.
        dh_T, dc_T: optional gradients arriving at the final state."""
        caches = self._need_cache()
        B, T, H = len(caches[0].h_prev), len(caches), self.hidden_size
        dh = np.asarray(dh, self.dtype)
        check_shape(dh, (B, T, H), "dh")
        grads = {name: self.new_grad(p) for name, p in self.params.items()}
        dx = np.empty((B, T, self.input_size), self.dtype)
        dh_next = np.zeros((B, H), self.dtype) if dh_T is None else np.asarray(dh_T, self.dtype)
        dc_next = np.zeros((B, H), self.dtype) if dc_T is None else np.asarray(dc_T, self.dtype)
        for t in reversed(range(T)):
            cache = caches[t]
            dz, dc_prev = self.gates_backward(dh[:, t] + dh_next, dc_next, cache)  # (B, 4H), (B, H)
            grads["W_x"] += cache.x.T @ dz
            grads["W_h"] += cache.h_prev.T @ dz
            grads["b"] += dz.sum(axis=0)
            dx[:, t] = self.input_grad(dz)
            dh_next = dz @ self.params["W_h"].T
            dc_next = self.carry(dc_prev)
        for name, g in grads.items():
            self.grads[name] = g.astype(self.dtype, copy=False)
        self.dstate0 = (dh_next, dc_next)
        return dx
