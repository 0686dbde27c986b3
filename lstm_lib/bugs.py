"""Broken LSTM layers with the classic bugs planted, for chapter 08 and for the tests that
prove each debugging tool catches its bug.

`ReferenceLSTM` is a readable, correct, step-by-step LSTM layer (the same function as
lstm_lib.LSTM, the same `params` names and layout). Each broken layer below changes exactly
one small method of it, so the planted bug is one line you can read:

- `RandomInitGradLSTM`: the weight gradients start from random noise instead of zeros and
  the per-step contributions are added on top.
- `NoSigmoidGradLSTM`: the forget gate's gradient skips the sigmoid derivative f (1 - f).
- `NoCarryLSTM`: `dc` is not passed back to the previous step (the highway is cut).
- `TransposedWeightLSTM`: the input gradient multiplies by a gate's weight block without
  transposing it; the shapes only clash when input_size != hidden_size.
- `NoStepSGD`: an optimiser whose step rebinds a local name instead of changing the
  parameter array in place, so the weights never move.

All of them are importable and work with lstm_lib.gradient_check, fit and the optimisers.
"""
import numpy as np

from .activations import sigmoid, sigmoid_grad, tanh_grad
from .base import Layer
from .lstm import LSTM
from .optim import SGD
from .validation import as_float_array, check_rank, check_shape


class ReferenceLSTM(Layer):
    """A correct LSTM layer written for reading, one time step at a time.

    forward(x (batch, time, input), h0=None, c0=None) -> (batch, time, hidden);
    backward(dh) -> dx, fills `grads` and `dstate0`. Parameters are initialised exactly as
    lstm_lib.LSTM(input_size, hidden_size, forget_bias) would, from the library generator.
    """

    def __init__(self, input_size, hidden_size, forget_bias=1.0, dtype=np.float32, rng=None):
        super().__init__()
        template = LSTM(input_size, hidden_size, forget_bias=forget_bias, dtype=dtype, rng=rng)
        for name, value in template.params.items():
            self._add_param(name, value.copy())
        self.input_size, self.hidden_size = input_size, hidden_size
        self.stateful = False
        self._cache = None
        self.state = None
        self.dstate0 = None
        self._noise = np.random.default_rng(12345)  # used only by RandomInitGradLSTM

    @classmethod
    def from_layer(cls, layer):
        """A copy with the same weights as another LSTM layer (lstm_lib.LSTM or any of these)."""
        new = cls(layer.input_size, layer.hidden_size, dtype=layer.dtype)
        for name, value in layer.params.items():
            new.params[name][...] = value
        return new

    def reset_state(self):
        pass

    # --- forward ---------------------------------------------------------------------------

    def forward(self, x, h0=None, c0=None):
        check_rank(x, 3, "(batch, time, features)", "x")
        x = as_float_array(x, "x", self.dtype)
        B, T, _ = x.shape
        H = self.hidden_size
        W_x, W_h, b = self.params["W_x"], self.params["W_h"], self.params["b"]
        h = np.zeros((B, H), self.dtype) if h0 is None else np.asarray(h0, self.dtype)
        c = np.zeros((B, H), self.dtype) if c0 is None else np.asarray(c0, self.dtype)
        check_shape(h, (B, H), "h0")
        check_shape(c, (B, H), "c0")
        out = np.empty((B, T, H), self.dtype)
        steps = []
        for t in range(T):
            z = x[:, t] @ W_x + h @ W_h + b  # (B, 4H), gate blocks i, f, g, o
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c_prev, h_prev = c, h
            c = f * c_prev + i * g
            tc = np.tanh(c)
            h = o * tc
            out[:, t] = h
            steps.append((x[:, t], h_prev, c_prev, i, f, g, o, tc))
        self._cache = steps
        self.state = (h.copy(), c.copy())
        return out

    # --- backward --------------------------------------------------------------------------

    def backward(self, dh, dh_T=None, dc_T=None):
        steps = self._need_cache()
        dh = np.asarray(dh, self.dtype)
        B, H = steps[0][1].shape
        check_shape(dh, (B, len(steps), H), "dh")
        W_x, W_h = self.params["W_x"], self.params["W_h"]
        dW_x = self._new_grad(W_x)
        dW_h = self._new_grad(W_h)
        db = self._new_grad(self.params["b"])
        dx = np.empty((B, len(steps), self.input_size), self.dtype)
        dh_next = np.zeros((B, H), self.dtype) if dh_T is None else np.asarray(dh_T, self.dtype)
        dc_next = np.zeros((B, H), self.dtype) if dc_T is None else np.asarray(dc_T, self.dtype)
        for t in range(len(steps) - 1, -1, -1):
            x_t, h_prev, c_prev, i, f, g, o, tc = steps[t]
            dh_t = dh[:, t] + dh_next  # from the loss at t and from step t+1
            do = dh_t * tc
            dc = dc_next + dh_t * o * tanh_grad(tc)  # through h_t, plus along the highway
            di, df, dg = dc * g, dc * c_prev, dc * i
            dz = self._gate_grads(i, f, g, o, di, df, dg, do)  # (B, 4H) pre-activation grads
            dW_x += x_t.T @ dz
            dW_h += h_prev.T @ dz
            db += dz.sum(axis=0)
            dx[:, t] = self._input_grad(dz, W_x)
            dh_next = dz @ W_h.T
            dc_next = self._carry(dc * f)
        self.grads["W_x"], self.grads["W_h"], self.grads["b"] = dW_x, dW_h, db
        self.dstate0 = (dh_next, dc_next)
        return dx

    # --- the four places where the bugs go -------------------------------------------------

    def _new_grad(self, param):
        """Where a weight gradient starts before the steps add their parts: zeros."""
        return np.zeros_like(param)

    def _gate_grads(self, i, f, g, o, di, df, dg, do):
        """Through the gate nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - g^2."""
        return np.concatenate([di * sigmoid_grad(i), df * sigmoid_grad(f),
                               dg * tanh_grad(g), do * sigmoid_grad(o)], axis=1)

    def _carry(self, dc_prev):
        """What goes back along the highway to step t-1: dc_t * f_t."""
        return dc_prev

    def _input_grad(self, dz, W_x):
        """dx_t = dz_t @ W_x^T: (B, 4H) @ (4H, I) -> (B, I)."""
        return dz @ W_x.T


class RandomInitGradLSTM(ReferenceLSTM):
    """Bug: weight gradients start as random noise instead of zeros (`np.random.randn`
    where `np.zeros` belonged), then each step's part is added on top."""

    def _new_grad(self, param):
        return (0.01 * self._noise.standard_normal(param.shape)).astype(param.dtype)


class NoSigmoidGradLSTM(ReferenceLSTM):
    """Bug: the forget gate's gradient is not multiplied by the sigmoid derivative f (1 - f)."""

    def _gate_grads(self, i, f, g, o, di, df, dg, do):
        return np.concatenate([di * sigmoid_grad(i), df,  # <- missing * sigmoid_grad(f)
                               dg * tanh_grad(g), do * sigmoid_grad(o)], axis=1)


class NoCarryLSTM(ReferenceLSTM):
    """Bug: dc is not passed back to the previous step; each step's cell gradient only
    comes from its own h. Invisible with one time step."""

    def _carry(self, dc_prev):
        return np.zeros_like(dc_prev)


class TransposedWeightLSTM(ReferenceLSTM):
    """Bug: the input gradient is computed gate by gate as dz_k @ W_x_k instead of
    dz_k @ W_x_k.T. Each block W_x_k is (input, hidden): with input_size == hidden_size it is
    square, nothing crashes and dx is silently wrong; with any other sizes matmul fails."""

    def _input_grad(self, dz, W_x):
        H = self.hidden_size
        return sum(dz[:, k * H:(k + 1) * H] @ W_x[:, k * H:(k + 1) * H] for k in range(4))


class NoStepSGD(SGD):
    """Bug: `p = p - lr * g` makes a new array and binds it to the local name p; the array
    inside `params` is never changed, so the weights never move. (`p -= lr * g` is right.)"""

    def _update(self, key, p, g):
        p = p - self.lr * g  # the bug: a new local array; the one in params is untouched


BROKEN_LAYERS = {
    "random_init_grads": RandomInitGradLSTM,
    "missing_sigmoid_grad": NoSigmoidGradLSTM,
    "dc_not_carried": NoCarryLSTM,
    "transposed_weight": TransposedWeightLSTM,
}
