"""The full LSTM-variants study of chapter 14, too long for the notebook's time budget.

    python experiments/variants.py             # the full sweep (96 minutes on one core of a loaded, shared machine)
    python experiments/variants.py --quick     # a few short runs, to try the script
    python experiments/variants.py --resume    # keep the runs already in the results file

Every variant of lstm_lib.variants (forget bias 1), and the plain LSTM with forget bias 0 and
2, on the three tasks of lstm_lib.course.variant_study (adding problem, reset stream,
character language model), for several seeds each. Writes
lstm_lib/course/results/variants.json (every run's curve and final value, after each run)
and lstm_lib/course/results/variants_weights.npz (the trained weights of seed 0 on the adding
and reset tasks, for chapter 14's widget). BLAS is limited to one thread: for these small
matrices that is faster, and the run is repeatable.
"""
import argparse
import json
import pathlib
import platform
import time

import numpy as np
import study_output as study  # experiments/study_output.py, next to this script

from lstm_lib.course.variant_study import TRAIN, lm_data
from lstm_lib.threads import limit_blas_threads
from lstm_lib.variants import VARIANTS

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "lstm_lib/course/results"

# task -> keyword arguments of its train_* function (the chapter prints them from the file)
SETTINGS = {
    "adding": {"length": 50, "hidden_size": 16, "steps": 2000, "lr": 3e-3, "batch_size": 64},
    "reset": {"hidden_size": 16, "steps": 1500, "lr": 3e-3, "batch_size": 32, "window": 50},
    "lm": {"hidden_size": 64, "steps": 1000, "lr": 1e-2, "batch_size": 32, "window": 32},
}
SEEDS = {"adding": [0, 1, 2, 3, 4], "reset": [0, 1, 2, 3, 4], "lm": [0, 1, 2, 3, 4]}
CONFIGS = [(label, 1.0) for label in VARIANTS] + [("vanilla", 0.0), ("vanilla", 2.0)]
WIDGET_TASKS = ("adding", "reset")  # their seed-0 weights are shipped (small models)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs of two variants, to try the script")
    ap.add_argument("--resume", action="store_true", help="skip the runs already in the results file")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS / "variants.json")
    ap.add_argument("--weights", type=pathlib.Path, default=RESULTS / "variants_weights.npz")
    args = ap.parse_args()
    settings = {task: dict(s) for task, s in SETTINGS.items()}
    configs, seeds = CONFIGS, SEEDS
    if args.quick:
        for s in settings.values():
            s["steps"] = 200
        configs, seeds = [("vanilla", 1.0), ("NFG", 1.0)], {t: [0, 1, 2] for t in SEEDS}
    out = {"description": "LSTM variants x tasks x seeds: the metric every 100 steps and at the end "
                          "(adding: test MSE, constant guess 1/6; reset: test MSE / Var(y), constant "
                          "guess 1; lm: validation bits per character)",
           "settings": settings, "seeds": seeds, "configs": configs,
           "environment": {"python": platform.python_version(), "numpy": np.__version__},
           "runs": []}
    weights, earlier_seconds = {}, 0.0
    if args.resume and args.out.exists():
        earlier = json.loads(args.out.read_text())
        out["runs"], earlier_seconds = earlier["runs"], earlier.get("total_seconds", 0.0)
        if args.weights.exists():
            weights = dict(np.load(args.weights))
    done = {(r["task"], r["variant"], r["forget_bias"], r["seed"]) for r in out["runs"]}
    corpus = lm_data()
    out["environment"]["lm_corpus_chars"] = len(corpus.text)
    start = time.perf_counter()
    with limit_blas_threads(1):
        for task in ("adding", "reset", "lm"):
            extra = {"corpus": corpus} if task == "lm" else {}
            for label, fb in configs:
                for seed in seeds[task]:
                    if (task, label, fb, seed) in done:
                        continue
                    model, r = TRAIN[task](label, forget_bias=fb, seed=seed, **settings[task], **extra)
                    out["runs"].append(r)
                    print(f"{task:6s} {label:9s} fb={fb:.0f} seed={seed} final={r['final']} "
                          f"({r['seconds']:.0f} s)", flush=True)
                    if task in WIDGET_TASKS and seed == 0 and fb == 1.0:
                        weights.update({f"{task}/{label}/{k}": v for k, v in model.params.items()})
                        np.savez_compressed(args.weights, **weights)
                    study.write(out, args.out)
    out["total_seconds"] = round(earlier_seconds + time.perf_counter() - start, 1)
    study.write(out, args.out)
    print(f"wrote {args.out} and {args.weights} in {out['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
