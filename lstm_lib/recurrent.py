"""What the three recurrent sequence layers share: input checks, carried state, buffers,
and the weight gradients computed as one matrix product after the time loop.

Inside, the layers work time-major, (time, batch, ...), so each step reads one contiguous
block; inputs and outputs at the public boundary are batch-first, (batch, time, ...).
"""
import numpy as np

from .base import Layer
from .seeding import get_rng
from .validation import as_float_array, check_rank, check_shape


def orthogonal(n, rng, dtype):
    """A random (n, n) orthogonal matrix (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.sign(np.diag(r))).astype(dtype)


class RecurrentLayer(Layer):
    """Base of RNN, LSTM and GRU. Subclasses set `gates` and `state_names` and implement
    `_forward_tm` and `_backward_tm`.

    Weights: W_x (input, gates*H), W_h (H, gates*H), b (gates*H,), gate blocks in PyTorch's
    order. Initialisation: W_x uniform in +-1/sqrt(H) (as torch.nn), each gate's (H, H) block
    of W_h a random orthogonal matrix (keeps gradient norms steady at the start), biases zero.
    """

    gates = 1
    state_names = ("h",)

    def __init__(self, input_size, hidden_size, stateful=False, dtype=np.float32, rng=None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, "
                             f"got {input_size} and {hidden_size}")
        rng = rng or get_rng()
        H, G = hidden_size, self.gates
        self.input_size, self.hidden_size, self.stateful = input_size, hidden_size, stateful
        k = 1.0 / np.sqrt(H)
        self._add_param("W_x", rng.uniform(-k, k, (input_size, G * H)).astype(dtype))
        self._add_param("W_h", np.concatenate([orthogonal(H, rng, dtype) for _ in range(G)], 1))
        self._add_param("b", np.zeros(G * H, dtype))
        self._cache = None
        self._carry = None
        self._buffers = {}
        self.state = None  # final state of the last forward, a tuple like (h,) or (h, c)
        self.dstate0 = None  # gradient w.r.t. the initial state after backward

    # --- state ---------------------------------------------------------------------------

    def reset_state(self):
        """Forget the state carried from the previous call (stateful layers)."""
        self._carry = None

    def _initial_state(self, given, B):
        """The initial state: given arrays, else the carried state, else zeros."""
        H, dtype = self.hidden_size, self.dtype
        states = []
        for k, (name, s) in enumerate(zip(self.state_names, given)):
            if s is None and self._carry is not None:
                s = self._carry[k]
                if s.shape[0] != B:
                    raise ValueError(f"batch mismatch: the carried state has batch {s.shape[0]}, "
                                     f"x has batch {B}; call reset_state() before changing "
                                     f"the batch size")
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

    # --- buffers -------------------------------------------------------------------------

    def _buffer(self, name, shape):
        """A reusable work array (allocated once per shape and dtype)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != self.dtype:
            buf = self._buffers[name] = np.empty(shape, self.dtype)
        return buf

    def astype(self, dtype):
        super().astype(dtype)
        self._buffers = {}
        self._carry = None
        return self

    # --- public forward / backward ---------------------------------------------------------

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
        X = x.transpose(1, 0, 2).copy()  # (T, B, I), a copy even when B == 1 (then the
        # transpose is already contiguous and would be a view of the caller's array)
        Hs, final = self._forward_tm(X, states)  # Hs: (T+1, B, H), Hs[0] is h0
        self.state = tuple(s.copy() for s in final)
        if self.stateful:
            self._carry = self.state
        self._cache = (X, B, T)
        # a fresh array: with B == 1 the transpose is contiguous, and ascontiguousarray would
        # hand out a view of the buffer that the next call overwrites
        return Hs[1:].transpose(1, 0, 2).copy()  # (B, T, H)

    def _backward(self, dh, dfinal):
        X, B, T = self._need_cache()
        H = self.hidden_size
        dh = np.asarray(dh)
        check_shape(dh, (B, T, H), "dh")
        dH = np.ascontiguousarray(dh.transpose(1, 0, 2), dtype=self.dtype)  # (T, B, H)
        dfinal = [np.zeros((B, H), self.dtype) if d is None else np.asarray(d, self.dtype)
                  for d in dfinal]
        for name, d in zip(self.state_names, dfinal):
            check_shape(d, (B, H), f"d{name}_T")
        dGx, dGh, dstate0 = self._backward_tm(dH, dfinal)  # (T, B, G*H) each
        self.dstate0 = tuple(dstate0)
        Hs = self._buffers["H"]
        self._weight_grads(X, Hs, dGx, dGh)
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

    def _input_projection(self, X, scale=None):
        """X @ W_x + b for every time step as one matrix product: (T, B, G*H).
        With input size 1 it is a broadcast multiply. `scale` multiplies the columns."""
        T, B, I = X.shape
        W, b = self.params["W_x"], self.params["b"]
        if scale is not None:
            W, b = W * scale, b * scale
        Z = self._buffer("Z", (T, B, W.shape[1]))
        if I == 1:
            np.multiply(X, W[0], out=Z)
        else:
            np.matmul(X.reshape(T * B, I), W, out=Z.reshape(T * B, -1))
        Z += b
        return Z

    def _state_buffer(self, name, T, B, s0):
        """A (T+1, B, H) buffer whose first slice holds the initial state."""
        buf = self._buffer(name, (T + 1, B, self.hidden_size))
        buf[0] = s0
        return buf
