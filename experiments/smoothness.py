"""Chapter 12's smoother study in full: all 16 recipes, five seeds, two training budgets.

    python experiments/smoothness.py            # the full study (about 25 minutes on one core)
    python experiments/smoothness.py --quick    # a small version to try the script

The lstm_lib LSTM of the race (LSTM(1, 32) -> last step -> Linear) forecasts the yearly
sunspot numbers one year ahead from the last 12 (test stretch: the last 20 %, 1947-2008),
trained with every combination of the four knobs of lstm_lib.course.smoothness (optimiser,
learning rate, loss reduction, input scaling), for 60 epochs (the chapter's budget) and for
600 (to see which recipes only learn slowly and which are stuck). Per run: test MSE,
roughness, the measured RMS step per update (all parameters; the input weights), the fraction
of gate pre-activations in the flat part, and the predictions of seed 0. One BLAS thread.
Writes lstm_lib/course/results/smoothness.json.
"""
import argparse
import json
import pathlib
import platform
import time
from dataclasses import asdict

import numpy as np
from threadpoolctl import threadpool_limits

from lstm_lib.bench import cpu_name
from lstm_lib.course import smoothness as S
from lstm_lib.forecasting import prepare
from lstm_lib.series import read_series
from lstm_lib.threads import blas_info

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="two seeds, 3 and 6 epochs, to try the script")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/smoothness.json")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--budgets", type=int, nargs="*", default=[60, 600], help="epochs")
    args = ap.parse_args()
    seeds, budgets = ([0, 1], [3, 6]) if args.quick else (args.seeds, args.budgets)
    data = prepare(read_series("sunspots"), window=12, test_fraction=0.2, difference=False)
    knobs = S.recipes()
    out = {"description": "lstm_lib LSTM(1, 32) -> last step -> Linear(32, 1), yearly sunspots, "
                          "window 12, last 20 % held out, batch 64; every combination of the "
                          "knobs of lstm_lib.course.smoothness; per run: test MSE (sunspot number²), "
                          "roughness, mean RMS step per update (all parameters, input weights W_x), "
                          "fraction of gate pre-activations in the flat part (test windows)",
           "settings": {"seeds": seeds, "budgets": budgets, "hidden": 32, "batch_size": 64,
                        "window": 12, "test_fraction": 0.2, "data": data.describe(),
                        "truth_roughness": S.roughness(data.y_test_units),
                        "numpy": np.__version__, "python": platform.python_version(),
                        "cpu": cpu_name()},
           "recipes": {name: asdict(k) for name, k in knobs.items()},
           "runs": {}, "pred_seed0": {}, "seconds": {}}
    start = time.perf_counter()
    with threadpool_limits(1):
        out["settings"]["blas"] = {k: v for k, v in blas_info().items() if k != "file"}
        for epochs in budgets:
            t0 = time.perf_counter()
            study = S.smoother_study(data, knobs, seeds=seeds, epochs=epochs,
                                     log=lambda text, e=epochs: print(f"{e:4d} epochs, {text}", flush=True))
            out["runs"][str(epochs)] = S.study_numbers(study)
            out["pred_seed0"][str(epochs)] = {
                name: None if runs[0].pred is None else [round(float(v), 3) for v in runs[0].pred]
                for name, runs in study.items()}
            out["seconds"][str(epochs)] = round(time.perf_counter() - t0, 1)
    out["settings"]["total_seconds"] = round(time.perf_counter() - start, 1)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out} in {out['settings']['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
