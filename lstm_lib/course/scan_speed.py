"""Chapter 15: how long the loop, the parallel scans and the LSTM layer take as the sequence
grows, each variant timed alone in a fresh process (so no variant's memory or threads slow
another's).

    python -m lstm_lib.course.scan_speed blelloch --batch 1 --hidden 16 --lengths 64 512 4096

prints one JSON line: for each length T the median processor time of the timing thread
(`time.thread_time`, which a busy machine disturbs far less than the wall clock) for a
forward pass and for a training step (forward + backward), the median wall-clock times, and
the number of Python-level steps forward and backward. Variants: the minGRU layer with each
scan method of `lstm_lib.scan`, and `lstm_lib.LSTM`. Float32, one BLAS thread.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

VARIANTS = ("loop", "hillis_steele", "blelloch", "log", "LSTM")


def make_layer(variant, input_size, hidden_size, seed=0):
    """A float32 minGRU with scan method `variant`, or the library's LSTM for 'LSTM'."""
    from ..lstm import LSTM
    from ..min_rnn import MinGRU

    rng = np.random.default_rng(seed)
    if variant == "LSTM":
        return LSTM(input_size, hidden_size, rng=rng)
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return MinGRU(input_size, hidden_size, method=variant, rng=rng)


def _median_times(fn, min_time, min_repeats=3, max_repeats=200):
    """Median (thread time, wall time) of fn() over repeats lasting about min_time seconds."""
    fn()  # warm-up: buffers allocated, caches filled
    cpu, wall = [], []
    while len(cpu) < min_repeats or (sum(cpu) < min_time and len(cpu) < max_repeats):
        t0, w0 = time.thread_time(), time.perf_counter()
        fn()
        cpu.append(time.thread_time() - t0)
        wall.append(time.perf_counter() - w0)
    return float(np.median(cpu)), float(np.median(wall))


def time_variant(variant, lengths, batch, hidden, min_time=0.3):
    """Time one variant in this process at each sequence length (input size = hidden size)."""
    from threadpoolctl import threadpool_limits

    rows = []
    with threadpool_limits(1):
        for T in lengths:
            layer = make_layer(variant, hidden, hidden)
            x = np.random.default_rng(1).standard_normal((batch, T, hidden)).astype(np.float32)
            dh = np.random.default_rng(2).standard_normal((batch, T, hidden)).astype(np.float32)
            fwd = _median_times(lambda layer=layer, x=x: layer.forward(x), min_time)
            train = _median_times(lambda layer=layer, x=x, dh=dh: (layer.forward(x), layer.backward(dh)),
                                  min_time)
            # the LSTM layer's loops run once per time step, forward and backward
            steps = {"forward": T, "backward": T} if variant == "LSTM" else dict(layer.steps)
            rows.append({"T": T, "forward_s": fwd[0], "train_s": train[0], "forward_wall_s": fwd[1],
                         "train_wall_s": train[1], "steps": steps})
    return {"variant": variant, "batch": batch, "hidden": hidden, "input": hidden, "rows": rows}


def measure(variant, lengths, batch, hidden, min_time=0.3):
    """time_variant run in a fresh Python process (one BLAS thread). Returns its dict."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "lstm_lib.course.scan_speed", variant, "--batch", str(batch),
           "--hidden", str(hidden), "--min-time", str(min_time), "--lengths", *map(str, lengths)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"timing {variant} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("variant", choices=VARIANTS)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 512, 4096])
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds of repeats per measurement")
    args = ap.parse_args(argv)
    print(json.dumps(time_variant(args.variant, args.lengths, args.batch, args.hidden, args.min_time)))


if __name__ == "__main__":
    main()
