"""Chapter 11's ablations: change one thing at a time, on 3 seeds each.

    OPENBLAS_NUM_THREADS=1 python experiments/char_lm_ablations.py   # 18 runs, about 2 hours on a busy machine
    python experiments/char_lm_ablations.py --quick                  # one short run each, to /tmp

The base model is a smaller copy of the shipped one (embedding 128 tied with the output
layer, 2 LSTM layers of 128, dropout 0.2); each variant in
lstm_lib.course.char_lm_study.ABLATIONS changes one setting: one layer instead of two (the
embedding stays 128), untied output weights started at the tied model's scale N(0, 1) (so
that only the tying changes) or at the usual Linear scale (so that only the initial scale
changes against the former), no dropout, and weight dropping 0.4 on the recurrent matrices
(models.WeightDropLSTM, the regulariser of h -> h that between-layer dropout leaves out).
Every run trains on the chapter's 345 000 training characters (not the shipped model's
enlarged text) with the recipe of experiments/char_lm.py --chapter-text (train_char_lm:
Adam 3e-3, clip 1, windows of 64 over 32 streams, halving the learning rate when validation
stalls) for 5 epochs, and records its best validation and its test bits per character. Seeds 0, 1, 2 change the initial
weights, the dropout masks and the stream offsets.

Writes lstm_lib/course/results/char_lm_ablations.json after every run, and skips runs it
already holds, so an interrupted sweep continues where it stopped.
"""
import argparse
import json
import pathlib
import platform

import numpy as np

from lstm_lib import text as tx
from lstm_lib.course.char_lm_study import ABLATION_BASE, ABLATIONS, train_char_lm
from lstm_lib.threads import limit_blas_threads

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "lstm_lib/course/results"
RECIPE = {"lr": 3e-3, "clip": 1.0, "batch_size": 32, "bptt": 64, "min_gain_bits": 0.01,
          "max_useless_halvings": 5}
EPOCHS, SEEDS = 5, (0, 1, 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one epoch on 20 000 characters, seed 0, to /tmp")
    args = ap.parse_args()
    out = pathlib.Path("/tmp/char_lm_ablations_quick.json") if args.quick else RESULTS / "char_lm_ablations.json"
    corpus = tx.load_stdlib_corpus()
    result = json.loads(out.read_text()) if out.is_file() and not args.quick else {
        "description": "one change at a time against the base model; best validation and test "
                       "bits per character of each run",
        "base": ABLATION_BASE, "recipe": RECIPE, "epochs": EPOCHS, "seeds": list(SEEDS),
        "python": platform.python_version(), "numpy": np.__version__, "variants": {}}
    with limit_blas_threads(1):
        for name, change in ABLATIONS.items():
            entry = result["variants"].setdefault(name, {"change": change, "runs": []})
            done = {r["seed"] for r in entry["runs"]}
            for seed in SEEDS[:1] if args.quick else SEEDS:
                if seed in done:
                    continue
                model, curve = train_char_lm(corpus, {**ABLATION_BASE, **change}, {**RECIPE, "seed": seed},
                                             1 if args.quick else EPOCHS,
                                             train_chars=20_000 if args.quick else None,
                                             log=lambda line: None)
                entry["params"] = int(model.num_params())
                entry["runs"].append({"seed": seed, "val_bpc": min(r["val_bpc"] for r in curve),
                                      "test_bpc": round(tx.bits_per_char(model.nll(corpus.test_ids)), 4),
                                      "minutes": round(sum(r["seconds"] for r in curve) / 60, 1),
                                      "curve": curve})
                print(f"{name}, seed {seed}: validation {entry['runs'][-1]['val_bpc']}, "
                      f"test {entry['runs'][-1]['test_bpc']}", flush=True)
                out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
