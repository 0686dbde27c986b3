"""Chapter 15's speed study: the minGRU layer by a loop and by three scans, and the LSTM
layer, as the sequence grows, forward pass and training step, each variant alone in its own
process (lstm_lib.course.scan_speed, on lstm_lib.timing.rounds_alone).

    python experiments/scan_speed.py            # the full study (the stored run: 881 s on a
                                                # shared 2-core machine at load 8-13)
    python experiments/scan_speed.py --quick    # short lengths, 3 rounds, to try the script

Two sizes: batch 1, hidden 16 (little work per step, so Python's per-step overhead decides)
and batch 8, hidden 64 (more arithmetic per step). Input size = hidden size, float32, one BLAS
thread, processor time, 7 rounds. The minGRU is the paper's log-space variant for every method
(log_space=True), so that the log-space scan computes the same layer as the others. Writes lstm_lib/course/results/scan_speed.json with the
machine's load before and after: the machine this course is developed on is shared, and the
times show it.
"""
import argparse
import json
import os
import pathlib
import platform
import time

import numpy as np

from lstm_lib.bench import cpu_name
from lstm_lib.course.scan_speed import VARIANTS, measure
from lstm_lib.threads import blas_info

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIZES = [{"batch": 1, "hidden": 16}, {"batch": 8, "hidden": 64}]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=pathlib.Path,
                    default=ROOT / "lstm_lib/course/results/scan_speed.json")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.2, help="seconds of calls per side and round")
    args = ap.parse_args()
    lengths = [64, 128, 256] if args.quick else [64, 128, 256, 512, 1024, 2048, 4096]
    rounds = 3 if args.quick else args.rounds
    out = {"description": "processor time (time.process_time, one BLAS thread) per forward pass "
                          "and per training step (forward + backward), minGRU by each scan "
                          "method and lstm_lib.LSTM, float32, input size = hidden size; each "
                          "variant in its own worker process (lstm_lib.timing.rounds_alone), "
                          "the others stopped while it runs; every round's time and the median",
           "settings": {"lengths": lengths, "sizes": SIZES, "variants": list(VARIANTS),
                        "rounds": rounds, "seconds": args.seconds, "clock": "cpu", "threads": 1,
                        "numpy": np.__version__, "python": platform.python_version(),
                        "cpu": cpu_name(), "cores": os.cpu_count(), "blas": blas_info(),
                        "load_before": os.getloadavg()},
           "runs": []}
    start = time.perf_counter()
    for size in SIZES:  # one size at a time: fewer layers held in memory at once
        runs = measure(VARIANTS, lengths, size["batch"], size["hidden"], rounds, args.seconds)
        out["runs"] += runs
        for r in runs:
            last = r["rows"][-1]
            print(f"{r['variant']:14s} batch {size['batch']} hidden {size['hidden']}: T={last['T']} "
                  f"forward {1e3 * last['forward_s']:.2f} ms, train {1e3 * last['train_s']:.2f} ms, "
                  f"steps {last['steps']}", flush=True)
    out["settings"]["load_after"] = os.getloadavg()
    out["total_seconds"] = round(time.perf_counter() - start, 1)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out} in {out['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
