"""What the three recurrent sequence layers share: input checks, carried state, reusable
arrays, the weight gradients computed as one matrix product after the time loop, and the
streaming step.

Inside, the layers work time-major, (time, batch, ...), so each step reads one contiguous
block; inputs and outputs at the public boundary are batch-first, (batch, time, ...).

A subclass's `_forward_tm` returns its *saved arrays*: a small named tuple (one per layer,
defined beside it) of what backward needs, always with the fields `x` (T, B, I) and
`hidden` (T+1, B, H) that the weight gradients read. `saved_arrays()` shows them by name.
Each layer's time loops are methods of their own, `_forward_loop` and `_backward_loop`: plain
loops over time on the arrays `_forward_tm` and `_backward_tm` prepare.
"""
import numpy as np

from .base import Layer
from .init import recurrent_init
from .seeding import get_rng
from .state import CarriedState
from .validation import as_float_array, check_rank, check_shape


class RecurrentLayer(CarriedState, Layer):
    """Base of RNN, LSTM and GRU. Subclasses set `gates`, `state_names` and `stream_class`
    and implement `_forward_tm(X, states) -> (saved, final_states)` and
    `_backward_tm(saved, dH, dfinal) -> (dGx, dGh, dstate0)`.

    State: the protocol of `lstm_lib.state` (`stateful`, `reset_state()`, the final `state`).
    Weights: W_x (input, gates*H), W_h (H, gates*H), b (gates*H,), gate blocks in PyTorch's
    order. Initialisation: W_x uniform in +-1/sqrt(H) (as torch.nn), each gate's (H, H) block
    of W_h a random orthogonal matrix (keeps gradient norms steady at the start), biases zero.
    """

    gates = 1
    state_names = ("h",)
    stream_class = None

    def __init__(self, input_size, hidden_size, stateful=False, dtype=np.float32, rng=None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, "
                             f"got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.stateful = input_size, hidden_size, stateful
        for name, value in recurrent_init(input_size, hidden_size, self.gates, rng or get_rng(),
                                          dtype).items():
            self._add_param(name, value)
        self._cache = None  # the saved arrays of the last forward
        self._arrays = {}  # reusable work arrays, allocated once per shape
        self.state = None  # final state of the last forward, a tuple like (h,) or (h, c)
        self.dstate0 = None  # gradient w.r.t. the initial state after backward

    # --- state ---------------------------------------------------------------------------

    def _initial_state(self, given, B):
        """The initial state: given arrays, else the carried state, else zeros."""
        H, dtype = self.hidden_size, self.dtype
        states = []
        for name, s in zip(self.state_names, self._start_state(given, B)):
            if s is None:
                s = np.zeros((B, H), dtype)
            else:
                s = as_float_array(s, f"{name}0", dtype)
                if s.ndim == 2 and s.shape[0] != B and s.shape[1] == H:
                    raise ValueError(f"batch mismatch: {name}0 has batch {s.shape[0]}, "
                                     f"x has batch {B}")
                check_shape(s, (B, H), f"{name}0")
            states.append(s)
        return states

    # --- arrays ----------------------------------------------------------------------------

    def _reuse(self, name, shape):
        """A work array of this shape and the layer's dtype, allocated once and reused by
        the next calls (its contents are whatever the last call left)."""
        arr = self._arrays.get(name)
        if arr is None or arr.shape != shape or arr.dtype != self.dtype:
            arr = self._arrays[name] = np.empty(shape, self.dtype)
        return arr

    def saved_arrays(self):
        """What the last forward keeps for backward, name -> array (time-major: (T, B, ...)
        or (T+1, B, ...) for states that include the initial one). Empty before forward."""
        return {} if self._cache is None else dict(self._cache._asdict())

    def astype(self, dtype):
        super().astype(dtype)
        self._arrays = {}
        self._carry = None
        return self

    def _forward_tm(self, X, states):
        raise NotImplementedError(f"{type(self).__name__} must define _forward_tm")

    def _backward_tm(self, saved, dH, dfinal):
        raise NotImplementedError(f"{type(self).__name__} must define _backward_tm")

    # --- public forward / backward ---------------------------------------------------------

    def forward(self, x, h0=None):
        """x: (batch, time, input) -> h: (batch, time, hidden); h0: optional (batch, hidden)
        start state. (The LSTM adds c0.)"""
        return self._forward(x, [h0])

    def backward(self, dh, dh_T=None):
        """dh: (batch, time, hidden) gradient of the loss w.r.t. the outputs; returns dx.
        dh_T: optional gradient arriving at the final state."""
        return self._backward(dh, [dh_T])

    def _forward(self, x, given):
        check_rank(x, 3, "(batch, time, features)", "x")
        x = as_float_array(x, "x", self.dtype)
        B, T, I = x.shape
        if I != self.input_size:
            raise ValueError(f"x must have shape (batch, time, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        if B < 1 or T < 1:
            raise ValueError(f"x must have at least one batch row and one time step, "
                             f"got shape {tuple(x.shape)}")
        states = self._initial_state(given, B)
        X = self._reuse("x", (T, B, I))
        X[...] = x.transpose(1, 0, 2)  # (T, B, I), our own copy of the input
        saved, final = self._forward_tm(X, states)
        self._end_state(*final)
        self._cache = saved
        # a fresh array: with B == 1 the transpose is contiguous, and ascontiguousarray would
        # hand out a view of the buffer that the next call overwrites
        return saved.hidden[1:].transpose(1, 0, 2).copy()  # (B, T, H)

    def _backward(self, dh, dfinal):
        saved = self._need_cache()
        T, B, _ = saved.x.shape
        H = self.hidden_size
        dh = np.asarray(dh)
        check_shape(dh, (B, T, H), "dh")
        dH = self._reuse("dh", (T, B, H))
        dH[...] = dh.transpose(1, 0, 2)  # (T, B, H)
        dfinal = [np.zeros((B, H), self.dtype) if d is None else np.asarray(d, self.dtype)
                  for d in dfinal]
        for name, d in zip(self.state_names, dfinal):
            check_shape(d, (B, H), f"d{name}_T")
        dGx, dGh, dstate0 = self._backward_tm(saved, dH, dfinal)  # (T, B, G*H) each
        self.dstate0 = tuple(dstate0)
        self._weight_grads(saved.x, saved.hidden, dGx, dGh)
        G = self.gates * H
        dx = dGx.reshape(T * B, G) @ self.params["W_x"].T  # (T*B, I)
        return np.ascontiguousarray(dx.reshape(T, B, -1).transpose(1, 0, 2))  # (B, T, I)

    def _weight_grads(self, X, Hs, dGx, dGh):
        """dW_x, dW_h and b from all time steps at once, after the loop."""
        T, B, I = X.shape
        G = dGx.shape[2]
        g = self.grads
        np.matmul(X.reshape(T * B, I).T, dGx.reshape(T * B, G), out=g["W_x"])
        np.matmul(Hs[:-1].reshape(T * B, -1).T, dGh.reshape(T * B, G), out=g["W_h"])
        np.sum(dGx.reshape(T * B, G), axis=0, out=g["b"])

    def _input_projection(self, X, out, scale=None):
        """out[...] = X @ W_x + b for every time step as one matrix product: (T, B, G*H).
        With input size 1 it is a broadcast multiply. `scale` multiplies the columns."""
        T, B, I = X.shape
        W, b = self.params["W_x"], self.params["b"]
        if scale is not None:
            W, b = W * scale, b * scale
        if I == 1:
            np.multiply(X, W[0], out=out)
        else:
            np.matmul(X.reshape(T * B, I), W, out=out.reshape(T * B, -1))
        np.add(out, b, out=out)
        return out

    # --- one step at a time ------------------------------------------------------------------

    def stream(self, batch_size=1):
        """A `Stream` that runs this layer one time step at a time with carried state, for
        real-time use: h = stream.step(x_t). It copies the layer's current weights: make a new
        one after the weights change. Its outputs equal forward() over the whole sequence."""
        return self.stream_class(self, batch_size)


class Stream:
    """One time step at a time: `step(x_t)` takes x_t (batch, input) and returns h_t
    (batch, hidden), a new array; the state is carried to the next call. `state` is the
    current state tuple ((h,) or (h, c)); `reset(*state)` starts again (zeros by default).
    All work arrays are allocated once, so a step allocates only its returned h. For steady
    latency on a machine that runs other work, run the loop of steps inside
    `lstm_lib.threads.limit_blas_threads(1)`, so that no step waits for a busy BLAS thread."""

    def __init__(self, layer, batch_size):
        self.input_size, self.hidden_size = layer.input_size, layer.hidden_size
        self.state_names, self.dtype = layer.state_names, layer.dtype
        self.batch_size = batch_size

    def _stack(self, layer, scale, with_h=True):
        """The step's input row [h | x | 1] (or [x | 1]) and the weights [W_h; W_x; b] (or
        [W_x; b]) stacked to match, columns multiplied by `scale`: one product with them gives
        every gate's pre-activation. Sets self._h and self._x to views of the row."""
        H, I, p = self.hidden_size, self.input_size, layer.params
        n_h = H if with_h else 0
        row = np.zeros((self.batch_size, n_h + I + 1), self.dtype)
        row[:, -1] = 1.0
        self._x = row[:, n_h:n_h + I]
        self._h = row[:, :H] if with_h else np.zeros((self.batch_size, H), self.dtype)
        W = np.concatenate(([p["W_h"]] if with_h else []) + [p["W_x"], p["b"][None]], axis=0)
        return row, np.ascontiguousarray(W * scale)

    def _check(self, x_t):
        x_t = as_float_array(x_t, "x_t", self.dtype)
        if x_t.ndim == 1 and self.batch_size == 1:
            x_t = x_t[None]
        check_shape(x_t, (self.batch_size, self.input_size), "x_t")
        return x_t

    def reset(self, *state):
        """Start again from the given state arrays (batch, hidden), zeros where not given."""
        arrays = self._state_arrays()
        for k, dest in enumerate(arrays):
            s = state[k] if k < len(state) else None
            if s is None:
                dest[...] = 0
            else:
                s = as_float_array(s, f"{self.state_names[k]}0", self.dtype)
                check_shape(s, dest.shape, f"{self.state_names[k]}0")
                dest[...] = s
        return self

    @property
    def state(self):
        return tuple(a.copy() for a in self._state_arrays())

    def _state_arrays(self):
        return (self._h,)
