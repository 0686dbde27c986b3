"""The full adding-problem study of chapter 10, too long for the notebook's time budget.

    python experiments/long_range.py            # the full study (50 minutes on one shared core)
    python experiments/long_range.py --quick    # a small version to try the script

For each model (vanilla RNN, GRU, LSTM with about the same number of parameters) and each
sequence length T, train on fresh batches of the adding problem with Adam and record the
test MSE every `eval_every` steps; then the LSTM with forget-gate bias 1.0 against 0.
Writes lstm_lib/course/results/long_range.json (chapter 10 loads it). BLAS is limited to one
thread: for these small matrices that is faster, and the run is repeatable.
"""
import argparse
import json
import pathlib
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = pathlib.Path(__file__).resolve().parent.parent

from lstm_lib.models import train_adding

# about 4.4k parameters each: LSTM 4H(2+H+1), GRU 3H(2+H+1)+H, RNN H(2+H+1), plus the head
HIDDEN = {"RNN": 64, "GRU": 37, "LSTM": 32}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/long_range.json")
    ap.add_argument("--lengths", type=int, nargs="*", default=[10, 25, 50, 100, 200])
    ap.add_argument("--bias-lengths", type=int, nargs="*", default=[100, 200],
                    help="lengths for the forget-bias comparison")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1])
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    steps = 300 if args.quick else args.steps
    common = {"batch_size": 64, "lr": args.lr, "clip": 1.0, "eval_every": 100, "n_test": 1000,
              "stop_below": 0.001}
    out = {"description": "adding problem: test MSE (1000 fixed test sequences) during training; "
                          "constant-1 baseline MSE = 1/6; solved = test MSE < 0.01",
           "settings": dict(common, max_steps=steps, hidden=HIDDEN, seeds=args.seeds,
                            optimizer="Adam", numpy=np.__version__,
                            python=platform.python_version()),
           "runs": [], "forget_bias": []}
    start = time.perf_counter()
    with threadpool_limits(1):
        for T in args.lengths:
            for kind, H in HIDDEN.items():
                for seed in args.seeds:
                    _, r = train_adding(kind, T, H, steps, seed=seed, **common)
                    out["runs"].append(r)
                    print(f"{kind:5s} T={T:4d} seed={seed} params={r['params']} "
                          f"final MSE={r['final_mse']:.4f} solved at {r['solved_step']} "
                          f"({r['seconds']:.0f} s)", flush=True)
                    _write(out, args.out)
        for T in args.bias_lengths:
            for fb in (0.0, 1.0):
                for seed in args.seeds:
                    _, r = train_adding("LSTM", T, HIDDEN["LSTM"], steps, seed=seed,
                                        forget_bias=fb, **common)
                    out["forget_bias"].append(r)
                    print(f"LSTM forget_bias={fb} T={T} seed={seed} final MSE={r['final_mse']:.4f} "
                          f"solved at {r['solved_step']} ({r['seconds']:.0f} s)", flush=True)
                    _write(out, args.out)
    out["total_seconds"] = round(time.perf_counter() - start, 1)
    _write(out, args.out)
    print(f"wrote {args.out} in {out['total_seconds']:.0f} s")


def _write(out, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
