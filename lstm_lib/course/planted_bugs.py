"""Broken LSTM layers with the classic bugs planted, for chapter 08 and for the tests that
prove each debugging tool catches its bug.

Each broken layer subclasses the readable, correct `lstm_lib.reference.ReferenceLSTM` (the
same function as lstm_lib.LSTM, the same `params` names and layout) and changes exactly one
small method of it, so the planted bug is one line you can read:

- `RandomInitGradLSTM`: the weight gradients start from random noise of `np.random.randn`'s
  scale (standard deviation 1) instead of zeros, and the per-step contributions are added
  on top. `NoisyGradLSTM` is the same bug on the fast layer, with the noise scale as a knob.
- `NoSigmoidGradLSTM`: the forget gate's gradient skips the sigmoid derivative f (1 - f).
- `NoCarryLSTM`: `dc` is not passed back to the previous step (the highway is cut).
- `TransposedWeightLSTM`: the input gradient multiplies by a gate's weight block without
  transposing it; the shapes only clash when input_size != hidden_size.
- `NoStepSGD`: an optimiser whose step rebinds a local name instead of changing the
  parameter array in place, so the weights never move.
- `readout_only_adam`: an optimiser built from the read-out layer's parameters only, so the
  LSTM below it never changes while the loss still goes down.

All of them are importable and work with lstm_lib.gradient_check, fit and the optimisers.
"""
import numpy as np

from ..activations import sigmoid_grad, tanh_grad
from ..lstm import LSTM
from ..optim import SGD, Adam
from ..reference import ReferenceLSTM


class RandomInitGradLSTM(ReferenceLSTM):
    """Bug: weight gradients start as random noise instead of zeros (`np.random.randn`
    where `np.zeros` belonged), then each step's part is added on top."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._noise = np.random.default_rng(12345)  # stands in for np.random, seeded

    def new_grad(self, param):
        return self._noise.standard_normal(param.shape).astype(param.dtype)  # np.random.randn


class NoisyGradLSTM(LSTM):
    """RandomInitGradLSTM's bug on the fast layer, at any scale: after the correct backward,
    `noise_scale` times fresh standard normal noise is added to every weight gradient (drawn
    in the same order, W_x, W_h, b, from the same seeded generator), which is what starting
    the sums at noise computes. noise_scale=1 gives RandomInitGradLSTM's gradients to
    rounding; it is faster (about 5 times on the overfitting test's 60-step sine wave, one BLAS
    thread), for sweeping the scale."""

    def __init__(self, *args, noise_scale=1.0, noise_seed=12345, **kwargs):
        super().__init__(*args, **kwargs)
        self.noise_scale = noise_scale
        self._noise = np.random.default_rng(noise_seed)

    def backward(self, dh, dh_T=None, dc_T=None):
        dx = super().backward(dh, dh_T, dc_T)
        for g in self.grads.values():
            g += (self.noise_scale * self._noise.standard_normal(g.shape)).astype(g.dtype)
        return dx


class NoSigmoidGradLSTM(ReferenceLSTM):
    """Bug: the forget gate's gradient is not multiplied by the sigmoid derivative f (1 - f)."""

    def gates_backward(self, dh, dc, cache):
        i, f, g, o, tc = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
        do = dh * tc
        dc = dc + dh * o * tanh_grad(tc)
        di, df, dg = dc * g, dc * cache.c_prev, dc * i
        dz = np.concatenate([di * sigmoid_grad(i), df,  # <- missing * sigmoid_grad(f)
                             dg * tanh_grad(g), do * sigmoid_grad(o)], axis=1)
        return dz, dc * f


class NoCarryLSTM(ReferenceLSTM):
    """Bug: dc is not passed back to the previous step; each step's cell gradient only
    comes from its own h. Invisible with one time step."""

    def carry(self, dc_prev):
        return np.zeros_like(dc_prev)


class TransposedWeightLSTM(ReferenceLSTM):
    """Bug: the input gradient is computed gate by gate as dz_k @ W_x_k instead of
    dz_k @ W_x_k.T. Each block W_x_k is (input, hidden): with input_size == hidden_size it is
    square, nothing crashes and dx is silently wrong; with any other sizes matmul fails."""

    def input_grad(self, dz):
        H, W_x = self.hidden_size, self.params["W_x"]
        return sum(dz[:, k * H:(k + 1) * H] @ W_x[:, k * H:(k + 1) * H] for k in range(4))


class NoStepSGD(SGD):
    """Bug: `p = p - lr * g` makes a new array and binds it to the local name p; the array
    inside `params` is never changed, so the weights never move. (`p -= lr * g` is right.)"""

    def _update(self, key, p, g):
        p = p - self.lr * g  # the bug: a new local array; the one in params is untouched


def readout_only_adam(model, lr=0.01):
    """Bug: the optimiser is built from the read-out's parameters only (`Adam(head)` where
    `Adam(model)` belonged, or a parameter list collected before the LSTM was added). The
    read-out learns, so the loss goes down; the LSTM's weights never change."""
    return Adam(model.layers[-1], lr=lr)  # the bug: model.layers[-1] instead of model


BROKEN_LAYERS = {
    "random_init_grads": RandomInitGradLSTM,
    "missing_sigmoid_grad": NoSigmoidGradLSTM,
    "dc_not_carried": NoCarryLSTM,
    "transposed_weight": TransposedWeightLSTM,
}
