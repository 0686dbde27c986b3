"""Chapter 13, Going deeper A: does splitting the time loop over two threads (each on half of
the batch, `lstm_lib.contestants.SplitBatchLSTM` and its GRU and RNN) make a training step
faster than one loop whose matrix products use the BLAS's two threads?

    python experiments/split_batch.py            # about 3 minutes; needs an otherwise idle machine
    python experiments/split_batch.py --quick    # to try the script (to /tmp)

Both ways of the library's training step (forward + backward, float32) at the benchmark's
shapes where the batch is large enough to split, each way alone in its own worker process
(`lstm_lib.timing.rounds_alone`), all threads, wall clock, alternating rounds. Writes
lstm_lib/course/results/split_batch.json with every round and the machine's description.
Two-thread wall-clock times only mean something on an idle machine: the script records the
load average before and after.
"""
import argparse
import json
import os
import pathlib
import platform
import time

import numpy as np

from lstm_lib import bench, threads
from lstm_lib.timing import Side, rounds_alone

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHAPES = [("LSTM", 64, 100, 32, 128), ("LSTM", 32, 35, 650, 650), ("LSTM", 32, 50, 1, 64),
          ("GRU", 64, 100, 32, 128), ("RNN", 64, 100, 32, 128)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/split_batch.json")
    args = ap.parse_args()
    shapes, rounds, seconds = (SHAPES[:1], 3, 0.05) if args.quick else (SHAPES, args.rounds, 0.3)
    out = pathlib.Path("/tmp/split_batch.json") if args.quick else args.out
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    rows = []
    for kind, B, T, I, H in shapes:
        shape = {"kind": kind, "batch": B, "time": T, "input": I, "hidden": H}
        sides = [Side(f"split {on}", "lstm_lib.contestants:lstm_lib_step", {**shape, "split": on})
                 for on in (True, False)]
        res = rounds_alone(sides, rounds=rounds, seconds=seconds, clock="wall")
        split, one = res["times"]["split True"], res["times"]["split False"]
        rows.append({**shape, "split_ms": [1e3 * t for t in split], "one_loop_ms": [1e3 * t for t in one]})
        print(f"{kind} {B},{T},{I},{H}: split {1e3 * np.median(split):.2f} ms, one loop "
              f"{1e3 * np.median(one):.2f} ms", flush=True)
    blas = threads.blas_info()
    record = {"description": ("the library's training step with its time loop split over two threads (two "
                              "halves of the batch) and as one loop, each alone in its process, "
                              "wall clock, all threads"), "rounds": rounds, "clock": "wall",
              "threads": blas["threads"], "blas": f"{blas['library']} {blas['version']}",
              "kernel": blas["architecture"], "cpu": bench.cpu_name(),
              "numpy": np.__version__, "python": platform.python_version(),
              "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
              "seconds": round(time.perf_counter() - start), "rows": rows}
    out.write_text(json.dumps(record, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
