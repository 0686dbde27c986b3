"""Chapter 11's n-gram baselines: the Kneser-Ney order searched on validation, for the chapter's
training text and for the shipped model's (the chapter's with 72 more modules in front).

The search counts orders 1, 2, 3, ... and stops once three orders in a row have not beaten the
best validation score so far (`lstm_lib.ngram.search_order`, patience 3; a cap of 64 orders
that the record would name if it were reached). Only validation is read during the search; the
chosen order is then scored on the test text and on the held-out modules (`text.HELD_OUT_MODULES`).
Writes lstm_lib/course/results/ngram_order.json. About 1 minute on one core (the 6x text costs
about one second per order).

    python experiments/ngram_order.py
"""
import json
import pathlib
import platform
import time

import numpy as np

from lstm_lib import ngram
from lstm_lib import text as tx

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "lstm_lib/course/results"
PATIENCE, MAX_ORDER = 3, 64


def bits(nll):
    return round(tx.bits_per_char(nll), 4)


def search(corpus, train_ids, held_out_ids):
    start = time.perf_counter()
    found = ngram.search_order(train_ids, corpus.vocab_size, corpus.val_ids, PATIENCE, MAX_ORDER)
    seconds = time.perf_counter() - start
    best = found["best"]
    (_, (val, test, held)), = ngram.order_scores(train_ids, corpus.vocab_size,
                                                 [corpus.val_ids, corpus.test_ids, held_out_ids], [best])
    assert bits(val) == bits(found["scores"][best])
    return {"train_chars": len(train_ids), "val_bpc": {k: bits(v) for k, v in found["scores"].items()},
            "best": best, "stopped": found["stopped"], "search_seconds": round(seconds, 1),
            "chosen": {"val_bpc": bits(val), "test_bpc": bits(test), "held_out_bpc": bits(held)}}


def main():
    corpus = tx.load_stdlib_corpus()
    held_out_ids = corpus.encode(tx.held_out_text())
    more_ids, _ = tx.more_training_ids(corpus)
    record = {"description": __doc__.split("\n")[0], "patience": PATIENCE, "max_order": MAX_ORDER,
              "held_out_modules": list(tx.HELD_OUT_MODULES), "held_out_chars": len(held_out_ids),
              "python": platform.python_version(), "numpy": np.__version__,
              "snapshot_python": tx.SNAPSHOT_PYTHON}
    for name, ids in (("chapter_text", corpus.train_ids), ("more_text", more_ids)):
        record[name] = search(corpus, ids, held_out_ids)
        r = record[name]
        print(f"{name}: best order {r['best']} ({r['stopped']}) in {r['search_seconds']} s; {r['chosen']}",
              flush=True)
        print("  " + ", ".join(f"{k}: {v}" for k, v in r["val_bpc"].items()), flush=True)
    (RESULTS / "ngram_order.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
