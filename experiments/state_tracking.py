"""Chapter 15's study of what a gated linear recurrence gives up, too long for the notebook.

    python experiments/state_tracking.py            # the full study (about 25 minutes of CPU time)
    python experiments/state_tracking.py --quick    # a small version to try the script

1. Running parity of a bit stream (lstm_lib.course.state_tracking): the LSTM, minGRU, minLSTM
   (one layer each) and three-layer stacks of minGRU and minLSTM, hidden size 32, trained on
   streams of 32 bits with Adam on fresh batches; accuracy at every position 1..256 on 1000
   fixed test streams (beyond 32: sequences longer than any seen in training).
   The minGRU/minLSTM layers are the paper's log-space variant (candidate through g; the
   default of lstm_lib.course.state_tracking), as in the stored record.
2. The adding problem (chapter 10's setting: batch 64, Adam 3e-3, clipping 1, at most 4000
   steps, stop below MSE 0.001): the LSTM, minGRU and minLSTM, hidden 32, at T = 50, 100, 200.

Writes lstm_lib/course/results/state_tracking.json (chapter 15 loads it) after every run.
BLAS is limited to one thread: for these small matrices that is faster, and repeatable.
"""
import argparse
import os
import pathlib
import platform
import time

import numpy as np
import study_output as study  # experiments/study_output.py, next to this script

from lstm_lib.course.state_tracking import train_adding_kind, train_parity
from lstm_lib.threads import limit_blas_threads

ROOT = pathlib.Path(__file__).resolve().parent.parent
PARITY_KINDS = ["LSTM", "minGRU", "minLSTM", "minGRU x3", "minLSTM x3"]
ADDING_KINDS = ["LSTM", "minGRU", "minLSTM"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--out", type=pathlib.Path,
                    default=ROOT / "lstm_lib/course/results/state_tracking.json")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--adding-seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--adding-lengths", type=int, nargs="*", default=[50, 100, 200])
    args = ap.parse_args()
    parity = {"hidden": 32, "length": 32, "steps": 150 if args.quick else 3000, "lr": 3e-3,
              "batch_size": 32, "test_length": 256, "n_test": 1000}
    adding = {"batch_size": 64, "lr": 3e-3, "clip": 1.0, "eval_every": 100, "n_test": 1000,
              "stop_below": 0.001}
    adding_steps = 200 if args.quick else 4000
    out = {"description": "running parity: accuracy per position (chance 0.5) after training on "
                          "32-bit streams; adding problem: test MSE as in chapter 10 (solved = "
                          "test MSE < 0.01, constant-1 baseline 1/6)",
           "settings": {"parity": dict(parity, seeds=args.seeds, kinds=PARITY_KINDS),
                        "adding": dict(adding, max_steps=adding_steps, hidden=32,
                                       seeds=args.adding_seeds, lengths=args.adding_lengths,
                                       kinds=ADDING_KINDS),
                        "numpy": np.__version__, "python": platform.python_version(),
                        "load_before": os.getloadavg()},
           "parity": [], "adding": []}
    start = time.perf_counter()
    hidden = parity.pop("hidden")
    length, steps = parity.pop("length"), parity.pop("steps")
    with limit_blas_threads(1):
        for kind in PARITY_KINDS:
            for seed in args.seeds:
                _, r = train_parity(kind, hidden, length, steps, seed=seed, **parity)
                out["parity"].append(r)
                acc = np.array(r["accuracy"])
                print(f"parity {kind:10s} seed {seed}: accuracy at 2, 8, 32, 256: "
                      f"{acc[[1, 7, 31, 255]]} ({r['seconds']:.0f} s)", flush=True)
                study.write(out, args.out)
        for T in args.adding_lengths:
            for kind in ADDING_KINDS:
                for seed in args.adding_seeds:
                    _, r = train_adding_kind(kind, T, 32, adding_steps, seed=seed, **adding)
                    out["adding"].append(r)
                    print(f"adding {kind:8s} T={T:4d} seed {seed}: final MSE {r['final_mse']:.4f}, "
                          f"solved at {r['solved_step']} ({r['seconds']:.0f} s)", flush=True)
                    study.write(out, args.out)
    out["settings"]["load_after"] = os.getloadavg()
    out["total_seconds"] = round(time.perf_counter() - start, 1)
    study.write(out, args.out)
    print(f"wrote {args.out} in {out['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
