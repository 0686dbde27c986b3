"""The full adding-problem study of chapter 10, too long for the notebook's time budget.

    python experiments/long_range.py            # the full study (about 2 hours on one shared core)
    python experiments/long_range.py --quick    # a small version to try the script
    python experiments/long_range.py --resume   # keep the runs already in --out, do the rest

For each seed, each sequence length T and each model (vanilla RNN, GRU, LSTM with about the
same number of parameters), train on fresh batches of the adding problem with Adam and record
the test MSE every `eval_every` steps. Then the LSTM with forget-gate bias 0 against 1.0 at the
longer lengths, on more seeds (a bias-1.0 run whose seed is in the main grid is that run:
the same call, the same numbers). Seeds are the outer loop of the main grid, lengths (shortest
first) of the bias comparison, so a run stopped half way leaves whole seeds, or whole lengths,
behind.

Writes lstm_lib/course/results/long_range.json (chapters 07 and 10 load it); the file is
rewritten after every run. Its layout: "settings", "runs" and "forget_bias" (lists of
`lstm_lib.models.train_adding` results: kind, length, seed, forget_bias, steps, test_mse,
final_mse, solved_step, seconds, ...). BLAS is limited to one thread: for these small
matrices that is faster, and the run is repeatable on one machine.
"""
import argparse
import json
import pathlib
import platform
import time

import numpy as np
import study_output as study  # experiments/study_output.py, next to this script
from threadpoolctl import threadpool_limits

from lstm_lib.models import train_adding

ROOT = pathlib.Path(__file__).resolve().parent.parent

# about 4.4k parameters each: LSTM 4H(2+H+1), GRU 3H(2+H+1)+H, RNN H(2+H+1), plus the head
HIDDEN = {"RNN": 64, "GRU": 37, "LSTM": 32}


def key(r):
    return r["kind"], r["length"], r["seed"], r["forget_bias"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--resume", action="store_true",
                    help="keep the runs already in --out (same settings) and do only the missing ones")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/long_range.json")
    ap.add_argument("--lengths", type=int, nargs="*", default=[10, 25, 50, 100, 200])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--bias-lengths", type=int, nargs="*", default=[100, 200],
                    help="lengths for the forget-bias comparison")
    ap.add_argument("--bias-seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4],
                    help="seeds for the forget-bias comparison")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    steps = 300 if args.quick else args.steps
    common = {"batch_size": 64, "lr": args.lr, "clip": 1.0, "eval_every": 100, "n_test": 1000,
              "stop_below": 0.001}
    settings = dict(common, max_steps=steps, hidden=HIDDEN, seeds=args.seeds,
                    bias_lengths=args.bias_lengths, bias_seeds=args.bias_seeds,
                    optimizer="Adam", numpy=np.__version__, python=platform.python_version())
    out = {"description": "adding problem: test MSE (1000 fixed test sequences) during training; "
                          "constant-1 baseline MSE = 1/6; solved = test MSE < 0.01",
           "settings": settings, "runs": [], "forget_bias": []}
    done = {}
    if args.resume and args.out.exists():
        old = json.loads(args.out.read_text())
        same = all(old["settings"].get(k) == v for k, v in common.items()) and \
            old["settings"]["max_steps"] == steps and old["settings"]["hidden"] == HIDDEN
        if same:
            done = {("runs",) + key(r): r for r in old["runs"]}
            done.update({("forget_bias",) + key(r): r for r in old["forget_bias"]})
            print(f"resuming: {len(done)} runs kept from {args.out}")
    start = time.perf_counter()

    def run(section, kind, T, seed, fb=1.0):
        k = (section, kind, T, seed, fb if kind == "LSTM" else None)
        if k not in done and section == "forget_bias" and fb == 1.0:
            k_main = ("runs",) + k[1:]
            if k_main in done:  # the same call as the main grid's run
                done[k] = done[k_main]
        if k not in done:
            _, done[k] = train_adding(kind, T, HIDDEN[kind], steps, seed=seed, forget_bias=fb, **common)
            r = done[k]
            print(f"{section:11s} {kind:4s} T={T:3d} seed={seed} forget_bias={r['forget_bias']} "
                  f"final MSE={r['final_mse']:.4f} solved at {r['solved_step']} ({r['seconds']:.0f} s)",
                  flush=True)
        out[section].append(done[k])
        study.write(out, args.out)

    with threadpool_limits(1):
        for seed in args.seeds:
            for T in args.lengths:
                for kind in HIDDEN:
                    run("runs", kind, T, seed)
        for T in args.bias_lengths:  # shorter (cheaper) lengths first
            for seed in args.bias_seeds:
                for fb in (0.0, 1.0):
                    run("forget_bias", "LSTM", T, seed, fb)
    out["runs"].sort(key=lambda r: (r["length"], list(HIDDEN).index(r["kind"]), r["seed"]))
    out["forget_bias"].sort(key=lambda r: (r["length"], r["forget_bias"], r["seed"]))
    unique = {key(r): r for r in out["runs"] + out["forget_bias"]}.values()  # shared runs once
    out["total_seconds"] = round(sum(r["seconds"] for r in unique), 1)
    out["wall_seconds_this_call"] = round(time.perf_counter() - start, 1)
    study.write(out, args.out)
    print(f"wrote {args.out}: {out['total_seconds']:.0f} s of training")


if __name__ == "__main__":
    main()
