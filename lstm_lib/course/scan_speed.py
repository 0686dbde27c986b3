"""Chapter 15: how long the minGRU's loop, its parallel scans and the LSTM layer take as the
sequence grows, forward pass and training step (forward + backward).

The timing is the library's (`lstm_lib.timing.rounds_alone`): every variant runs in a worker
process of its own (all its lengths, one at a time) with one BLAS thread; in each round every
side runs while the other workers are stopped, the order rotating from round to round, and
the clock is the worker's processor time ("cpu"), which a busy machine disturbs far less than
the wall clock. Used by experiments/scan_speed.py (the stored study) and by the chapter's
live check. Variants: the minGRU layer with each scan method of `lstm_lib.scan`, and
`lstm_lib.LSTM`. The minGRU is the paper's log-space variant (log_space=True) for every method,
so that all four methods, 'log' included, compute the same function. Float32, input size =
hidden size.
"""
import numpy as np

from ..lstm import LSTM
from ..min_rnn import MinGRU
from ..profiling import training_step
from ..timing import Side, rounds_alone

VARIANTS = ("loop", "hillis_steele", "blelloch", "log", "LSTM")
PASSES = ("forward", "train")


def make_layer(variant, input_size, hidden_size, seed=0):
    """A float32 minGRU (log-space variant) with scan method `variant`, or the library's LSTM
    for 'LSTM'."""
    rng = np.random.default_rng(seed)
    if variant == "LSTM":
        return LSTM(input_size, hidden_size, rng=rng)
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return MinGRU(input_size, hidden_size, method=variant, rng=rng, log_space=True)


def step(variant, pass_, batch, length, hidden):
    """The function to time (no arguments), built in the worker: one forward pass
    (pass_='forward') or one training step, forward + backward (pass_='train')."""
    if pass_ not in PASSES:
        raise ValueError(f"pass_ must be one of {PASSES}, got {pass_!r}")
    layer = make_layer(variant, hidden, hidden)
    x = np.random.default_rng(1).standard_normal((batch, length, hidden)).astype(np.float32)
    if pass_ == "forward":
        return lambda: layer.forward(x)
    dh = np.random.default_rng(2).standard_normal((batch, length, hidden)).astype(np.float32)
    return training_step(layer, x, dh)


def python_steps(variant, length):
    """Python-level iterations of one forward and one backward pass: {"forward", "backward"}.
    The LSTM layer's loops run once per time step; the minGRU counts its own."""
    if variant == "LSTM":
        return {"forward": length, "backward": length}
    layer = make_layer(variant, 1, 1)
    layer.backward(layer.forward(np.zeros((1, length, 1), np.float32)))
    return dict(layer.steps)


def measure(variants, lengths, batch, hidden, rounds=7, seconds=0.2, passes=PASSES):
    """Time each variant at each length, forward pass and/or training step (`passes`), each
    variant alone in its own process (one BLAS thread, processor time). Returns a list with one
    dict per variant: variant, batch, hidden, input, and rows, one per length T: forward_s and
    train_s (the medians over the rounds, seconds per call), forward_rounds and train_rounds
    (every round's time) and steps (Python-level steps forward and backward)."""
    sides = [Side(f"{v} {p} {T}", "lstm_lib.course.scan_speed:step",
                  {"variant": v, "pass_": p, "batch": batch, "length": T, "hidden": hidden}, v)
             for v in variants for T in lengths for p in passes]
    times = rounds_alone(sides, rounds=rounds, seconds=seconds, clock="cpu", threads=1)["times"]
    runs = []
    for v in variants:
        rows = []
        for T in lengths:
            row = {"T": T, "steps": python_steps(v, T)}
            for p in passes:
                row[f"{p}_rounds"] = times[f"{v} {p} {T}"]
                row[f"{p}_s"] = float(np.median(row[f"{p}_rounds"]))
            rows.append(row)
        runs.append({"variant": v, "batch": batch, "hidden": hidden, "input": hidden, "rows": rows})
    return runs
