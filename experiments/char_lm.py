"""Train chapter 11's character language model to convergence and ship its weights.

    OPENBLAS_NUM_THREADS=1 python experiments/char_lm.py   # about an hour on a busy 2-core machine
    OPENBLAS_NUM_THREADS=1 python experiments/char_lm.py --first-run   # the first attempt (record only)
    python experiments/char_lm.py --quick                  # two short epochs, to try the script

The model is the chapter's best configuration: embedding 256 tied with the output layer,
2 LSTM layers of 256, dropout 0.3 between the layers and before the output, and weight
dropping 0.4 on each layer's recurrent matrix W_h (1.09 M parameters). Training: Adam,
learning rate 3e-3, gradients clipped to global norm 1, truncated BPTT in windows of 64
characters over 32 parallel streams of the training text (the streams start at a random
offset in each epoch, so window edges move). After each epoch the bits per character on the
whole validation text; when they did not improve by at least 0.01 on the best so far, the
learning rate halves; training stops at the third such epoch, or after 20 epochs. The weights
of the best epoch are kept.

`--first-run` repeats the first attempt, the same with dropout 0.2 and no weight dropping
(18 epochs at most): its validation score looked good, its test score did not (chapter 11
shows both). It writes only char_lm_first_run.json.

Writes into lstm_lib/course/results/:
- char_lm_model.npz: the weights, the model's configuration and the vocabulary
  (CharLM.load reads it; about 4 MB);
- char_lm_training.json: the curve per epoch, validation and test bits per character of the
  kept weights, the interpolated Kneser-Ney baselines of orders 1-7 on the same texts, and
  samples.

The numbers depend on the Python version (the corpus is its standard library) and, in their
last digits, on the BLAS kernel; the chapter checks its claims with margins.
"""
import argparse
import json
import pathlib
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from lstm_lib import text as tx
from lstm_lib.course.char_lm_study import train_char_lm
from lstm_lib.ngram import KneserNey

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "lstm_lib/course/results"
CONFIG = {"embed_dim": 256, "hidden_size": 256, "num_layers": 2, "dropout": 0.3,
          "tie_weights": True, "weight_drop": 0.4}
RECIPE = {"lr": 3e-3, "clip": 1.0, "batch_size": 32, "bptt": 64, "max_epochs": 20,
          "min_gain_bits": 0.01, "max_useless_halvings": 3, "seed": 0}
FIRST_RUN = ({**CONFIG, "dropout": 0.2, "weight_drop": 0.0}, {**RECIPE, "max_epochs": 18})
SAMPLES = [("def ", 0.5), ("def ", 0.8), ("class ", 0.8), ("    ", 1.0)]


def bits(nll):
    return round(tx.bits_per_char(nll), 4)


def ngram_table(corpus, orders=range(1, 8)):
    """Validation and test bits per character of interpolated Kneser-Ney models."""
    table = {}
    for n in orders:
        kn = KneserNey(corpus.train_ids, n, corpus.vocab_size)
        table[n] = {"val_bpc": bits(kn.nll(corpus.val_ids)), "test_bpc": bits(kn.nll(corpus.test_ids)),
                    "discounts": [round(d, 4) for d in kn.discounts]}
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="two short epochs, written to /tmp")
    ap.add_argument("--first-run", action="store_true", help="the first attempt: dropout only")
    args = ap.parse_args()
    out_dir = pathlib.Path("/tmp/char_lm_quick") if args.quick else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    config, recipe = FIRST_RUN if args.first_run else (CONFIG, RECIPE)
    corpus = tx.load_stdlib_corpus()
    wall = time.perf_counter()
    with threadpool_limits(1):
        model, curve = train_char_lm(corpus, config, recipe, 2 if args.quick else recipe["max_epochs"],
                                     train_chars=20_000 if args.quick else None)
        minutes = (time.perf_counter() - wall) / 60
        val, test = model.nll(corpus.val_ids), model.nll(corpus.test_ids)
        table = ngram_table(corpus)
        best_order = min(table, key=lambda n: table[n]["val_bpc"])
        samples = [{"prompt": p, "temperature": t, "seed": 0,
                    "text": corpus.decode(model.generate(corpus.encode(p), 600, t, np.random.default_rng(0)))}
                   for p, t in SAMPLES]
    if args.first_run:
        record = {"config": config, "recipe": recipe, "curve": curve, "val_bpc": bits(val),
                  "test_bpc": bits(test), "minutes": round(minutes, 1)}
        (out_dir / "char_lm_first_run.json").write_text(json.dumps(record, indent=1))
        print(f"first run: validation {bits(val)}, test {bits(test)}")
        return
    model.save(out_dir / "char_lm_model.npz", chars=corpus.chars, corpus_modules=corpus.sources,
               python=platform.python_version())
    result = {
        "description": "chapter 11's character LM trained to convergence on the standard "
                       "library's source (validation = last 10% of the training modules' text; "
                       "test = other modules, never trained or tuned on)",
        "config": config, "recipe": recipe, "params": int(model.num_params()),
        "python": platform.python_version(), "numpy": np.__version__,
        "corpus_modules": corpus.sources, "test_modules": corpus.test_sources,
        "chars": {"train": len(corpus.train_ids), "val": len(corpus.val_ids), "test": len(corpus.test_ids)},
        "vocab_size": corpus.vocab_size, "minutes": round(minutes, 1), "curve": curve,
        "best_epoch": min(curve, key=lambda r: r["val_bpc"])["epoch"],
        "val_bpc": bits(val), "test_bpc": bits(test),
        "kneser_ney": table, "best_order": best_order, "samples": samples}
    (out_dir / "char_lm_training.json").write_text(json.dumps(result, indent=1))
    print(f"validation {bits(val)}, test {bits(test)} bits/char in {minutes:.0f} min; "
          f"best n-gram (order {best_order}) test {table[best_order]['test_bpc']}; wrote {out_dir}")


if __name__ == "__main__":
    main()
