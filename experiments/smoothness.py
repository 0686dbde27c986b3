"""Chapter 12's smoother study in full: all 16 recipes, five seeds, two training budgets.

    python experiments/smoothness.py            # the full study (about 25 minutes on one core)
    python experiments/smoothness.py --quick    # a small version to try the script
    python experiments/smoothness.py --part inputs   # only the input study (about 3 minutes),
                                                     # added to the stored record

The input study (`--part inputs`, key "inputs" of the record) separates the raw-input knob into
its two halves: the input centred only (x - mean), scaled only (x / std), both, or neither,
under momentum-SGD and under Adam (lr 0.01, loss averaged), five seeds, 60 epochs, with the
fraction of flat gates before training and after. It also trains momentum-SGD on raw input
with the initial input weights divided by the std (no gate flat at the start), and repeats
three recipes with every initial weight multiplied by (1 + 6e-8 N(0, 1)), at most one float32
rounding (two draws): how far a run moves when nothing but rounding changes.

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
    ap.add_argument("--part", choices=("all", "knobs", "inputs"), default="all",
                    help="knobs: the 16 recipes; inputs: the input study, added to the record at --out")
    args = ap.parse_args()
    if args.part == "inputs":
        return input_study(args)
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
    if args.part == "all":
        input_study(args)


JITTER = 6e-8  # about float32's rounding unit
OPTIMISERS = {"momentum-SGD": S.Knobs("momentum", S.SHARED_LR, "mean"), "Adam": S.Knobs("adam", S.SHARED_LR, "mean")}
JITTERED = ("momentum-SGD", "momentum-SGD + raw input", "all four (from-scratch recipe)")


def input_study(args):
    """Centring and scaling separated, the shrunk initial W_x, and the rounding-level
    perturbations; added under the key "inputs" of the record at args.out."""
    seeds, epochs = ([0, 1], 3) if args.quick else (args.seeds, 60)
    data = prepare(read_series("sunspots"), window=12, test_fraction=0.2, difference=False)
    record = json.loads(args.out.read_text())
    out = {"description": "60 epochs, lr 0.01, loss averaged; input forms: raw (the series' units), "
                          "centred only (x - mean), scaled only (x / std), centred and scaled; "
                          "saturation_init: flat gates before the first update. shrunk_wx: "
                          "momentum-SGD, raw input, initial W_x divided by the std. jitter: every "
                          f"initial weight times (1 + {JITTER:g} N(0, 1)), draws 1 and 2 (0: none)",
           "seeds": seeds, "epochs": epochs, "mean": data.scaler.mean, "std": data.scaler.std,
           "jitter_size": JITTER, "runs": {}, "pred_seed0": {}, "shrunk_wx": None, "jitter": {}}
    t0 = time.perf_counter()

    def runs(knobs, **kw):
        return [S.train_variant(data, knobs, s, epochs=epochs, **kw) for s in seeds]

    with threadpool_limits(1):
        for opt, knobs in OPTIMISERS.items():
            out["runs"][opt], out["pred_seed0"][opt] = {}, {}
            for form in S.INPUT_FORMS:
                rs = runs(knobs, form=form)
                out["runs"][opt][form] = [r.numbers() for r in rs]
                out["pred_seed0"][opt][form] = None if rs[0].pred is None else [round(float(v), 3) for v in rs[0].pred]
                print(f"{opt}, {form}: {S.summary(rs)}", flush=True)
        rs = runs(OPTIMISERS["momentum-SGD"], form="raw", init_wx_scale=1 / data.scaler.std)
        out["shrunk_wx"] = [r.numbers() for r in rs]
        print(f"momentum-SGD, raw input, W_x / std at the start: {S.summary(rs)}", flush=True)
        for name in JITTERED:
            out["jitter"][name] = [[r.numbers() for r in runs(S.recipes()[name], jitter=j * JITTER)]
                                   for j in (0, 1, 2)]
            print(f"{name}, jittered: " + "; ".join(
                f"{np.mean([r['mse'] for r in draw]):.0f}" for draw in out["jitter"][name]), flush=True)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    record["inputs"] = out
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"added the input study to {args.out} in {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
