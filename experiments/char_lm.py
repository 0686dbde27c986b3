"""Train chapter 11's character language model and ship its weights.

    python experiments/char_lm.py                 # about 50 min on a 2-core machine
    python experiments/char_lm.py --quick         # a few minutes, written to /tmp, to try the script
    python experiments/char_lm.py --third-run     # record only, about 50 min
    OPENBLAS_NUM_THREADS=1 python experiments/char_lm.py --chapter-text   # record only
    OPENBLAS_NUM_THREADS=1 python experiments/char_lm.py --first-run      # record only

The model is the chapter's largest configuration: embedding 256 tied with the output layer,
2 LSTM layers of 256 (1.09 M parameters), dropout between the layers and before the output,
and weight dropping on each layer's recurrent matrix W_h. Chapter 11 tells its four runs:

- `--first-run`: the chapter's 345 K training characters, dropout 0.2, no weight dropping;
  Adam 3e-3, gradients clipped to global norm 1, truncated BPTT in windows of 64 characters
  over 32 parallel streams that start at a random offset in each epoch; the learning rate
  halved after each epoch that gains less than 0.01 bits on validation, stop at the third
  such epoch or after 18 (20 for the second run); the best epoch's weights kept. Its
  validation score looked good, its test score did not.
- `--chapter-text` (the second run): the same with dropout 0.3 and weight dropping 0.4.
- `--third-run`: the second run's model on the chapter's training part with
  `text.MORE_TRAINING_MODULES` in front: 72 other standard-library modules, 2.12 M characters
  in all (validation, test and vocabulary stay the chapter's). Training (`train_char_lm`,
  schedule "cosine"): each epoch is cut into 6 rounds with the validation score after each;
  the learning rate follows a cosine from 3e-3 down to 3e-5 over 18 epochs (108 rounds); the
  best round's weights are kept.
- the default, the shipped run: the third with half the regularisation (dropout 0.2, weight
  dropping 0.2).

The first three write only their record. Into lstm_lib/course/results/ go:
- char_lm_model.npz: the shipped weights, the model's configuration and the vocabulary
  (CharLM.load reads it; about 4 MB);
- char_lm_training.json: the shipped run's curve per round, validation and test bits per
  character of the kept weights, the interpolated Kneser-Ney baselines of orders 1-7 counted
  on the same training text, and samples;
- char_lm_third_run.json (the same record for --third-run), char_lm_chapter_text.json,
  char_lm_first_run.json.

The numbers depend on the Python version (the corpus is its standard library) and, in their
last digits, on the BLAS kernel and threads; the chapter checks its claims with margins.
"""
import argparse
import json
import pathlib
import platform
import time

import numpy as np

from lstm_lib import text as tx
from lstm_lib.course.char_lm_study import train_char_lm
from lstm_lib.ngram import KneserNey

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "lstm_lib/course/results"
CONFIG = {"embed_dim": 256, "hidden_size": 256, "num_layers": 2, "dropout": 0.2,
          "tie_weights": True, "weight_drop": 0.2}  # the shipped model
SECOND = {**CONFIG, "dropout": 0.3, "weight_drop": 0.4}  # the second and third runs'
RECIPE = {"lr": 3e-3, "final_lr": 3e-5, "schedule": "cosine", "evals_per_epoch": 6, "epochs": 18,
          "clip": 1.0, "batch_size": 32, "bptt": 64, "seed": 0}
CHAPTER_TEXT = (SECOND, {"lr": 3e-3, "clip": 1.0, "batch_size": 32, "bptt": 64, "max_epochs": 20,
                         "min_gain_bits": 0.01, "max_useless_halvings": 3, "seed": 0})
FIRST_RUN = ({**CONFIG, "dropout": 0.2, "weight_drop": 0.0}, {**CHAPTER_TEXT[1], "max_epochs": 18})
SAMPLES = [("def ", 0.5), ("def ", 0.8), ("class ", 0.8), ("    ", 1.0)]


def bits(nll):
    return round(tx.bits_per_char(nll), 4)


def ngram_table(corpus, train_ids, orders=range(1, 8)):
    """Validation and test bits per character of interpolated Kneser-Ney models counted on
    `train_ids`, orders 1-7 as the runs recorded them (the first ngram.py could count no
    higher). The chapter's baselines are searched on validation until it stops improving, by
    experiments/ngram_order.py."""
    table = {}
    for n in orders:
        kn = KneserNey(train_ids, n, corpus.vocab_size)
        table[n] = {"val_bpc": bits(kn.nll(corpus.val_ids)), "test_bpc": bits(kn.nll(corpus.test_ids)),
                    "discounts": [round(d, 4) for d in kn.discounts]}
    return table


def small_run(corpus, which, out_dir=RESULTS):
    """--chapter-text or --first-run: the chapter's 345 K characters, the halving recipe."""
    config, recipe = CHAPTER_TEXT if which == "chapter_text" else FIRST_RUN
    wall = time.perf_counter()
    model, curve = train_char_lm(corpus, config, recipe, recipe["max_epochs"])
    record = {"config": config, "recipe": recipe, "curve": curve,
              "train_chars": len(corpus.train_ids), "val_bpc": bits(model.nll(corpus.val_ids)),
              "test_bpc": bits(model.nll(corpus.test_ids)),
              "minutes": round((time.perf_counter() - wall) / 60, 1),
              "python": platform.python_version(), "numpy": np.__version__}
    (out_dir / f"char_lm_{which}.json").write_text(json.dumps(record, indent=1))
    print(f"{which}: validation {record['val_bpc']}, test {record['test_bpc']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a tiny run, written to /tmp unless --out")
    ap.add_argument("--chapter-text", action="store_true", help="the chapter's text only (record)")
    ap.add_argument("--first-run", action="store_true", help="the first attempt (record)")
    ap.add_argument("--third-run", action="store_true", help="the second run's model on 6x the text (record)")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS, help="where to write")
    args = ap.parse_args()
    config = SECOND if args.third_run else CONFIG
    corpus = tx.load_stdlib_corpus()
    if args.chapter_text or args.first_run:
        return small_run(corpus, "chapter_text" if args.chapter_text else "first_run", args.out)
    train_ids, extra = tx.more_training_ids(corpus)
    recipe, out_dir = RECIPE, args.out
    if args.quick:
        train_ids, recipe = train_ids[:60_000], {**RECIPE, "epochs": 2, "evals_per_epoch": 2}
        out_dir = pathlib.Path("/tmp/char_lm_quick") if args.out == RESULTS else args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"training text {len(train_ids):,} characters ({len(extra)} more modules + the chapter's "
          f"{len(corpus.train_ids):,}); {int((train_ids == corpus.vocab_size - 1).sum()):,} unknown", flush=True)
    wall = time.perf_counter()
    model, curve = train_char_lm(corpus, config, recipe, recipe["epochs"], train_ids=train_ids,
                                 log=lambda line: print(line, flush=True))
    minutes = (time.perf_counter() - wall) / 60
    val, test = model.nll(corpus.val_ids), model.nll(corpus.test_ids)
    table = ngram_table(corpus, train_ids, [3, 7] if args.quick else range(1, 8))
    best_order = min(table, key=lambda n: table[n]["val_bpc"])
    samples = [{"prompt": p, "temperature": t, "seed": 0,
                "text": corpus.decode(model.generate(corpus.encode(p), 600, t, np.random.default_rng(0)))}
               for p, t in SAMPLES]
    if not args.third_run:
        model.save(out_dir / "char_lm_model.npz", chars=corpus.chars, corpus_modules=corpus.sources,
                   python=platform.python_version())
    result = {
        "description": "chapter 11's character LM, trained on the chapter's training text with 72 "
                       "more standard-library modules in front (validation = last 10% of the "
                       "chapter's modules' text; test = other modules, never trained or tuned on)",
        "config": config, "recipe": recipe, "params": int(model.num_params()),
        "python": platform.python_version(), "numpy": np.__version__,
        "corpus_modules": corpus.sources, "more_training_modules": extra,
        "test_modules": corpus.test_sources,
        "chars": {"train": len(train_ids), "chapter_train": len(corpus.train_ids),
                  "val": len(corpus.val_ids), "test": len(corpus.test_ids)},
        "vocab_size": corpus.vocab_size, "minutes": round(minutes, 1), "curve": curve,
        "best_round": min(curve, key=lambda r: r["val_bpc"])["round"],
        "val_bpc": bits(val), "test_bpc": bits(test),
        "kneser_ney": table, "best_order": best_order,
        "margin_over_best_ngram_test": round(table[best_order]["test_bpc"] - bits(test), 4),
        "samples": samples}
    name = "char_lm_third_run.json" if args.third_run else "char_lm_training.json"
    (out_dir / name).write_text(json.dumps(result, indent=1))
    print(f"validation {bits(val)}, test {bits(test)} bits/char in {minutes:.0f} min; best n-gram "
          f"(order {best_order}) test {table[best_order]['test_bpc']}, margin "
          f"{result['margin_over_best_ngram_test']}; wrote {out_dir}")


if __name__ == "__main__":
    main()
