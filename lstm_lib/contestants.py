"""What the benchmark times: one training step (forward + backward, the gradients of the
weights, biases and input) of each side, built by a factory that a worker process calls.

- `lstm_lib_step`: the library's RNN, LSTM or GRU layer;
- `torch_step`: the matching torch.nn module (its input requires grad, so both sides
  compute the same gradients);
- `textbook_step`: a plain per-step NumPy LSTM as textbooks write it (`TextbookLSTM`);
- `floor_step`: only the matrix products of the library layer's training step
  (`profiling.matmul_only_step`), the floor no implementation with these products can beat;
- `SplitBatchLSTM`, `SplitBatchGRU`, `SplitBatchRNN`: the library's layers with their time
  loops split over two threads, each on half of the batch (chapter 13, section A; measured
  slower here by experiments/split_batch.py), run by `lstm_lib_step(..., split=True)`.

Every factory takes (kind, batch, time, input, hidden, dtype="float32", seed=0, repeat=1):
`repeat=2` runs the step twice per call, a planted 2x slowdown that tests the harness.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import cells
from .gru import GRU
from .lstm import LSTM
from .profiling import matmul_only_step
from .reference import ReferenceLSTM
from .rnn import RNN
from .threads import blas_threads, limit_blas_threads

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


# --- the time loop split over two threads --------------------------------------------------

_pool = []  # one worker thread, started at the first split


def halves(batch, min_rows):
    """The batch rows as one range, or as two halves when the BLAS has two or more threads and
    each half would have at least `min_rows` rows: a list of (start, stop)."""
    if batch < 2 * min_rows or blas_threads() < 2:
        return [(0, batch)]
    mid = (batch + 1) // 2
    return [(0, mid), (mid, batch)]


def run_on_rows(loop, parts):
    """Run loop(start, stop) for each part in `parts` (from `halves`): with one part in this
    thread; with two, the second in a pool thread at the same time as the first in this one,
    the BLAS on one thread meanwhile. Exceptions from either part are raised here."""
    if len(parts) == 1:
        loop(*parts[0])
        return
    if not _pool:
        _pool.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstm_lib"))
    with limit_blas_threads(1):
        other = _pool[0].submit(loop, *parts[1])
        try:
            loop(*parts[0])
        finally:
            other.result()


class SplitBatch:
    """Put before a recurrent layer class (class SplitBatchLSTM(SplitBatch, LSTM)): its time
    loops, `_forward_loop` and `_backward_loop`, run on two halves of the batch at once, one
    Python thread each (NumPy releases the GIL inside its ufuncs and products), when the BLAS
    has two threads and each half enough rows; everything before and after the loops (the
    input projection, the weight gradients) runs once on the whole batch. The rows never
    meet, so the numbers are those of one loop. `forward_axes` and `backward_axes` name, for
    each argument of the two loops, the axis that holds the batch (None: shared by both halves)."""

    forward_axes = backward_axes = ()

    def _forward_loop(self, *args):
        self._split(super()._forward_loop, args, self.forward_axes)

    def _backward_loop(self, *args):
        self._split(super()._backward_loop, args, self.backward_axes)

    def _split(self, loop, args, axes):
        batch = args[0].shape[axes[0]]
        parts = halves(batch, min_rows=max(4, 1024 // (self.gates * self.hidden_size)))

        def on_rows(lo, hi):
            loop(*(a if ax is None else a[(slice(None),) * ax + (slice(lo, hi),)]
                   for a, ax in zip(args, axes)))
        run_on_rows(on_rows, parts)


class SplitBatchLSTM(SplitBatch, LSTM):
    """lstm.LSTM with its time loops split over two threads (see SplitBatch)."""

    forward_axes = (1, 1, 1, 1, None, None, None)  # A, Hs, Cs, TC, W_hs, s, m
    backward_axes = (1, 1, 1, 2, 1, 1, 0, 0, None)  # A, Cs, TC, mult, dH, dG, dh, dc_next, W_hT


class SplitBatchGRU(SplitBatch, GRU):
    """gru.GRU with its time loops split over two threads (see SplitBatch)."""

    forward_axes = (1, 1, 1, None, None)  # A, Hs, HN, W_hs, b_hn
    backward_axes = (1, 1, 1, 1, 1, 1, 1, 0, None)  # A, D, dGx, dGh, Hs, HN, dH, dh, W_hT


class SplitBatchRNN(SplitBatch, RNN):
    """rnn.RNN with its time loops split over two threads (see SplitBatch)."""

    forward_axes = (1, None)  # Hs, W_h
    backward_axes = (1, 1, 1, 0, None)  # Hs, dZ, dH, dh, W_hT


SPLIT_LAYERS = {"RNN": SplitBatchRNN, "LSTM": SplitBatchLSTM, "GRU": SplitBatchGRU}


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


def lstm_lib_step(kind, batch, time, input, hidden, dtype="float32", seed=0, repeat=1, split=False):
    """One forward + backward of lstm_lib's `kind` layer (split=True: its SplitBatch form)."""
    rng, x, dy = _data(kind, batch, time, input, hidden, dtype, seed)
    layer = (SPLIT_LAYERS if split else LAYERS)[kind](input, hidden, dtype=np.dtype(dtype), rng=rng)

    def step():
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
