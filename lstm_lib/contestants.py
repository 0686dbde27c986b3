"""What the benchmark times: one training step (forward + backward, the gradients of the
weights, biases and input) of each side, built by a factory that a worker process calls.

- `lstm_lib_step`: the library's RNN, LSTM or GRU layer;
- `torch_step`: the matching torch.nn module (its input requires grad, so both sides
  compute the same gradients);
- `textbook_step`: a plain per-step NumPy LSTM as textbooks write it (`TextbookLSTM`);
- `floor_step`: only the matrix products of the library layer's training step
  (`profiling.matmul_only_step`), the floor no implementation with these products can beat.

Every factory takes (kind, batch, time, input, hidden, dtype="float32", seed=0, repeat=1):
`repeat=2` runs the step twice per call, a planted 2x slowdown that tests the harness.
"""
import contextlib

import numpy as np

from . import cells, threads
from .gru import GRU
from .lstm import LSTM
from .profiling import matmul_only_step
from .reference import ReferenceLSTM
from .rnn import RNN

LAYERS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


class TextbookLSTM(ReferenceLSTM):
    """The LSTM as textbooks write it: fused gate weights, a Python loop over time with
    x_t W_x + h W_h + b for every step, a sigmoid 1 / (1 + exp(-z)), a cache per step, and in
    backward the weight gradients added up step by step. `ReferenceLSTM` with the plain
    sigmoid instead of the overflow-safe one (which the textbooks do not bother with)."""

    def step(self, x_t, h, c):
        p, H = self.params, self.hidden_size
        z = x_t @ p["W_x"] + h @ p["W_h"] + p["b"]  # (B, 4H)
        i, f, o = (1 / (1 + np.exp(-z[:, k * H:(k + 1) * H])) for k in (0, 1, 3))
        g = np.tanh(z[:, 2 * H:3 * H])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        return o * tc, c_new, cells.LSTMStepCache(x_t, h, c, i, f, g, o, tc, p["W_x"], p["W_h"])


def _data(kind, B, T, I, H, dtype, seed):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((B, T, I)).astype(dtype), rng.standard_normal((B, T, H)).astype(dtype)


def _repeated(step, repeat):
    if repeat == 1:
        return step

    def twice():
        for _ in range(repeat):
            out = step()
        return out
    return twice


def lstm_lib_step(kind, batch, time, input, hidden, dtype="float32", seed=0, repeat=1, split=None):
    """One forward + backward of lstm_lib's `kind` layer (`split`: True/False to turn
    `threads.split_batch` on or off for it; None leaves the default)."""
    rng, x, dy = _data(kind, batch, time, input, hidden, dtype, seed)
    layer = LAYERS[kind](input, hidden, dtype=np.dtype(dtype), rng=rng)

    def step():
        with contextlib.nullcontext() if split is None else threads.split_batch(split):
            layer.forward(x)
            return layer.backward(dy)
    return _repeated(step, repeat)


def textbook_step(kind, batch, time, input, hidden, dtype="float32", seed=0, repeat=1):
    """One forward + backward of `TextbookLSTM` (LSTM only)."""
    if kind != "LSTM":
        raise ValueError(f"the textbook side is an LSTM, not {kind}")
    rng, x, dy = _data(kind, batch, time, input, hidden, dtype, seed)
    layer = TextbookLSTM(input, hidden, dtype=np.dtype(dtype), rng=rng)

    def step():
        layer.forward(x)
        return layer.backward(dy)
    return _repeated(step, repeat)


def floor_step(kind, batch, time, input, hidden, dtype="float32", seed=0, repeat=1):
    """Only the matrix products of lstm_lib's training step at these shapes."""
    rng, x, _ = _data(kind, batch, time, input, hidden, dtype, seed)
    layer = LAYERS[kind](input, hidden, dtype=np.dtype(dtype), rng=rng)
    return _repeated(matmul_only_step(layer, x), repeat)


def torch_step(kind, batch, time, input, hidden, dtype="float32", seed=0, repeat=1):
    """One forward + backward of torch.nn.`kind` (one layer, batch_first=True)."""
    import torch
    torch.manual_seed(seed)
    tdtype = getattr(torch, np.dtype(dtype).name)
    module = getattr(torch.nn, kind)(input, hidden, batch_first=True).to(tdtype)
    _, x, dy = _data(kind, batch, time, input, hidden, dtype, seed)
    x = torch.tensor(x, requires_grad=True)
    dy = torch.tensor(dy)

    def step():
        module.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = module(x)
        out.backward(dy)
        return x.grad
    return _repeated(step, repeat)
