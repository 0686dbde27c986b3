"""Does chapter 11's character model beat the n-grams by more when it reads more text?

    python experiments/char_lm_more_data.py               # about an hour, both cores
    python experiments/char_lm_more_data.py --quick       # a few minutes, to try the script

Chapter 11's shipped model (experiments/char_lm.py) beats the best Kneser-Ney n-gram by 0.15
bits/char on the test modules; the course's target was 0.3. Its 345,000 training characters
are few for 1.09 M parameters (training 1.62 vs validation 1.77 bits/char at its last epoch).
This experiment keeps the validation and test texts, the vocabulary, the model and the
recipe, and only adds more training text: `EXTRA_MODULES`, 72 other standard-library modules
(about 1.8 M characters) before the chapter's training part. The n-grams are counted on the
same enlarged training text, so both sides get the same data.

Training: the shipped model's optimiser (Adam, clipping, truncated BPTT over 32 streams in
windows of 64), in "rounds" of the next 345,000 characters of the enlarged text (the size of
the chapter's epoch), the validation score after each. The chapter's rule (halve the
learning rate after a round that gains less than 0.01) does not suit this text: the
validation score moves up and down by more than that from one slice of text to the next. So
the learning rate follows a cosine from 3e-3 down to 3e-5 over a fixed number of rounds
(`--rounds`, 96, about 16 passes over the text), and the weights of the best round are kept.

Writes lstm_lib/course/results/char_lm_more_data.json (not used by the chapter).
"""
import argparse
import json
import pathlib
import platform
import time

import numpy as np

from lstm_lib import text as tx
from lstm_lib.char_lm import CharLM
from lstm_lib.losses import SoftmaxCrossEntropy
from lstm_lib.ngram import KneserNey
from lstm_lib.optim import Adam
from lstm_lib.seeding import seed as seed_everything
from lstm_lib.training import fit

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "lstm_lib/course/results"
CONFIG = {"embed_dim": 256, "hidden_size": 256, "num_layers": 2, "dropout": 0.3,
          "tie_weights": True, "weight_drop": 0.4}  # the shipped model's
RECIPE = {"lr": 3e-3, "final_lr": 3e-5, "clip": 1.0, "batch_size": 32, "bptt": 64, "seed": 0,
          "round_chars": 345_000}
# Pure-Python standard-library modules of 8-60 kB, none of them in the chapter's corpus or test.
EXTRA_MODULES = (
    "shelve", "pipes", "mailcap", "graphlib", "types", "filecmp", "numbers", "symtable",
    "opcode", "imp", "code", "operator", "tabnanny", "pyclbr", "asynchat", "hashlib", "bz2",
    "cgitb", "stringprep", "runpy", "lzma", "timeit", "poplib", "fileinput", "posixpath",
    "tracemalloc", "sunau", "selectors", "compileall", "asyncore", "warnings", "base64",
    "gettext", "weakref", "wave", "site", "mimetypes", "profile", "telnetlib", "modulefinder",
    "gzip", "pkgutil", "webbrowser", "tokenize", "socketserver", "uuid", "plistlib", "dis",
    "trace", "pstats", "tempfile", "ntpath", "sysconfig", "zipimport", "smtpd", "bdb", "aifc",
    "cgi", "ftplib", "codecs", "socket", "os", "traceback", "nntplib", "platform", "smtplib",
    "pathlib", "ssl", "imaplib", "configparser", "shutil", "threading")


def bits(nll):
    return round(tx.bits_per_char(nll), 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=96, help="rounds of training")
    ap.add_argument("--minutes", type=float, default=58.0, help="training time limit")
    ap.add_argument("--quick", action="store_true", help="tiny run written to /tmp")
    ap.add_argument("--save", type=pathlib.Path, help="also save the kept weights here (.npz)")
    args = ap.parse_args()
    corpus = tx.load_stdlib_corpus()
    assert not set(EXTRA_MODULES) & (set(tx.CORPUS_MODULES) | set(tx.TEST_MODULES))
    extra = tx.stdlib_sources(EXTRA_MODULES)
    extra_text = "\n".join(path.read_text(encoding="utf-8") for _, path in extra) + "\n"
    train_ids = np.concatenate([corpus.encode(extra_text), corpus.train_ids])  # same vocabulary
    rounds_chars, minutes, rounds = RECIPE["round_chars"], args.minutes, args.rounds
    if args.quick:
        train_ids, rounds_chars, minutes, rounds = train_ids[:60_000], 20_000, 1.0, 6
    print(f"training text {len(train_ids):,} characters ({len(corpus.train_ids):,} in the chapter), "
          f"{sum(train_ids == corpus.vocab_size - 1):,} of them unknown to the vocabulary")

    table = {}
    for n in ([3, 5, 7] if args.quick else range(1, 8)):
        kn = KneserNey(train_ids, n, corpus.vocab_size)
        table[n] = {"val_bpc": bits(kn.nll(corpus.val_ids)), "test_bpc": bits(kn.nll(corpus.test_ids))}
        print(f"Kneser-Ney order {n}: {table[n]}", flush=True)
    best_order = min(table, key=lambda n: table[n]["val_bpc"])

    seed_everything(RECIPE["seed"])
    model = CharLM(corpus.vocab_size, **CONFIG, rng=np.random.default_rng(RECIPE["seed"]))
    opt = Adam(model, lr=RECIPE["lr"])
    offsets = np.random.default_rng(1000 + RECIPE["seed"])
    cyclic = np.concatenate([train_ids, train_ids])  # a round may run past the end: wrap around
    best, best_params, curve, pos = np.inf, None, [], 0
    wall = time.perf_counter()
    for r in range(rounds):
        if (time.perf_counter() - wall) / 60 > minutes:
            break
        start = time.perf_counter()
        cosine = (1 + np.cos(np.pi * r / max(1, rounds - 1))) / 2  # 1 -> 0
        opt.lr = RECIPE["final_lr"] + (RECIPE["lr"] - RECIPE["final_lr"]) * cosine
        piece = cyclic[pos:pos + rounds_chars]
        pos = (pos + rounds_chars) % len(train_ids)
        X, Y = tx.batchify(piece[int(offsets.integers(0, RECIPE["bptt"])):], RECIPE["batch_size"])
        hist = fit(model, SoftmaxCrossEntropy(), opt, X, Y, epochs=1, bptt=RECIPE["bptt"],
                   clip=RECIPE["clip"], progress=False, on_divergence="raise")
        val = tx.bits_per_char(model.nll(corpus.val_ids))
        curve.append({"round": len(curve) + 1, "lr": round(float(opt.lr), 6),
                      "train_bpc": round(tx.bits_per_char(hist.epoch_loss[0]), 4),
                      "val_bpc": round(val, 4), "seconds": round(time.perf_counter() - start, 1)})
        print(json.dumps(curve[-1]), flush=True)
        if val < best:
            best, best_params = val, {k: p.copy() for k, p in model.params.items()}
    train_minutes = (time.perf_counter() - wall) / 60
    for k, p in model.params.items():
        p[...] = best_params[k]
    val, test = bits(model.nll(corpus.val_ids)), bits(model.nll(corpus.test_ids))
    if args.save:
        model.save(args.save, chars=corpus.chars, corpus_modules=corpus.sources,
                   python=platform.python_version())
    result = {
        "description": "chapter 11's model and recipe with 72 more standard-library modules of "
                       "training text; validation, test and vocabulary as in the chapter",
        "config": CONFIG, "recipe": RECIPE, "rounds": rounds, "minutes_limit": minutes,
        "python": platform.python_version(), "numpy": np.__version__,
        "extra_modules": [m for m, _ in extra], "train_chars": len(train_ids),
        "chapter_train_chars": len(corpus.train_ids), "train_minutes": round(train_minutes, 1),
        "curve": curve, "val_bpc": val, "test_bpc": test, "kneser_ney": table,
        "best_order": best_order,
        "margin_over_best_ngram_test": round(table[best_order]["test_bpc"] - test, 4)}
    out = pathlib.Path("/tmp/char_lm_more_data.json") if args.quick else RESULTS / "char_lm_more_data.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"LSTM validation {val}, test {test}; best n-gram (order {best_order}) test "
          f"{table[best_order]['test_bpc']}; margin {result['margin_over_best_ngram_test']}; "
          f"{train_minutes:.0f} min of training; wrote {out}")


if __name__ == "__main__":
    main()
