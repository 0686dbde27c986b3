"""Latency for real-time use: the time of one streaming step at batch 1, and memory.

A real-time model (a sensor, audio, a controller) gets one input vector at a time and must
answer before the next one arrives. What counts is the time of one step with the state
carried over, not the throughput of a training step. `stream_step` times lstm_lib's
`layer.stream().step(x_t)`, `torch_cell_step` the matching `torch.nn.LSTMCell` / `GRUCell` /
`RNNCell` under `torch.no_grad()`; `latency_table` runs them each alone in its own process
(`timing.rounds_alone`). `footprint` counts the bytes a stream holds.
"""
import numpy as np

from .gru import GRU
from .lstm import LSTM
from .rnn import RNN
from .timing import Side, rounds_alone

LAYERS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}
SIZES = (32, 128, 512)  # hidden sizes of the latency table; the input size equals the hidden


def _inputs(input_size, dtype, seed, steps=64):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((steps, 1, input_size)).astype(dtype)


def stream_step(kind, input, hidden, dtype="float32", seed=0):
    """A function running one step of lstm_lib's `kind` stream at batch 1 (cycling through
    64 fixed inputs, so the state keeps changing)."""
    rng, xs = _inputs(input, dtype, seed)
    layer = LAYERS[kind](input, hidden, dtype=np.dtype(dtype), rng=rng)
    stream = layer.stream(batch_size=1)
    it = iter(())

    def step():
        nonlocal it
        x = next(it, None)
        if x is None:
            it = iter(xs)
            x = next(it)
        return stream.step(x)
    return step


def torch_cell_step(kind, input, hidden, dtype="float32", seed=0):
    """A function running one step of torch.nn.`kind`Cell at batch 1, without autograd."""
    import torch
    torch.manual_seed(seed)
    cell = getattr(torch.nn, f"{kind}Cell")(input, hidden).to(getattr(torch, np.dtype(dtype).name))
    _, xs = _inputs(input, dtype, seed)
    xs = [torch.from_numpy(x) for x in xs]
    zero = torch.zeros(1, hidden, dtype=xs[0].dtype)
    state = (zero, zero.clone()) if kind == "LSTM" else zero
    it = iter(())

    def step():
        nonlocal it, state
        x = next(it, None)
        if x is None:
            it = iter(xs)
            x = next(it)
        with torch.no_grad():
            state = cell(x, state)
        return state
    return step


def footprint(layer, batch_size=1):
    """Bytes that running `layer` as a stream holds: its parameters, the carried state, and
    the stream's work arrays (among them its own stacked copy of the weights)."""
    stream = layer.stream(batch_size)
    params = sum(p.nbytes for p in layer.params.values())
    state = sum(s.nbytes for s in stream.state)
    owned = sum(a.nbytes for a in vars(stream).values() if isinstance(a, np.ndarray)
                and a.base is None)  # arrays the stream allocated (views not counted twice)
    return {"parameters": params, "state": state, "work": owned - state}


SUMMARIES = {"median": np.median, "fastest": np.min}


def latency_table(kinds=("LSTM", "GRU"), sizes=SIZES, rounds=7, seconds=0.2, clock="wall",
                  threads=None, env=None, summary="median"):
    """Microseconds per streaming step at batch 1 for each kind and hidden size, lstm_lib
    against torch's cell, each library alone in its process (one worker for all of lstm_lib's
    streams, one for torch's cells; one step runs at a time). `summary`: "median" of the
    rounds, or the "fastest" round (on a busy machine). Returns a list of row dicts."""
    if summary not in SUMMARIES:
        raise ValueError(f"summary must be one of {sorted(SUMMARIES)}, got {summary!r}")
    sides = []
    for kind in kinds:
        for H in sizes:
            kw = {"kind": kind, "input": H, "hidden": H}
            sides += [Side(f"lstm_lib {kind} {H}", "lstm_lib.latency:stream_step", kw, "lstm_lib"),
                      Side(f"torch {kind} {H}", "lstm_lib.latency:torch_cell_step", kw, "torch")]
    res = rounds_alone(sides, rounds=rounds, seconds=seconds, clock=clock, threads=threads, env=env)
    us = {k: float(SUMMARIES[summary](v)) * 1e6 for k, v in res["times"].items()}
    rows = []
    for kind in kinds:
        for H in sizes:
            lib, ref = us[f"lstm_lib {kind} {H}"], us[f"torch {kind} {H}"]
            rows.append({"kind": kind, "input": H, "hidden": H, "summary": summary, "lstm_lib_us": lib,
                         "torch_us": ref, "ratio": lib / ref, "bytes": footprint(LAYERS[kind](H, H))})
    return rows


def format_latency(rows, clock="wall"):
    """The latency rows as a printable table."""
    what = {"wall": "wall clock", "cpu": "CPU time"}[clock]
    head = (f"{'layer':<5} {'hidden':>6} | {'lstm_lib us':>11} {'torch us':>9} {'ratio':>6} | "
            f"{'params KiB':>10} {'state KiB':>9} {'work KiB':>8}")
    how = {"median": "median of the rounds", "fastest": "fastest round"}[
        rows[0].get("summary", "median") if rows else "median"]
    lines = [f"one streaming step at batch 1 (input size = hidden size), float32, {what}, {how}",
             head, "-" * len(head)]
    for r in rows:
        b = r["bytes"]
        lines.append(f"{r['kind']:<5} {r['hidden']:>6} | {r['lstm_lib_us']:>11.1f} {r['torch_us']:>9.1f} "
                     f"{r['ratio']:>6.2f} | {b['parameters'] / 1024:>10.1f} {b['state'] / 1024:>9.2f} "
                     f"{b['work'] / 1024:>8.1f}")
    return "\n".join(lines)
