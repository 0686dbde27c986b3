"""The longer character-language-model runs of chapter 11, too long for the notebook's budget.

    python experiments/char_lm.py            # about 15 minutes on one core
    python experiments/char_lm.py --quick    # one short epoch each, to try the script

Trains three models on the standard-library corpus (lstm_lib.text.load_stdlib_corpus):
1 LSTM layer; 2 layers with dropout between them; 2 layers with dropout and weight tying.
Records training and validation bits per character after each epoch, the counted unigram and
bigram baselines on the same split, and a sample from each model; writes
lstm_lib/course/results/char_lm.json, which chapter 11 loads. BLAS is limited to one thread.
"""
import argparse
import json
import pathlib
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = pathlib.Path(__file__).resolve().parent.parent

import lstm_lib as L
from lstm_lib import text as tx
from lstm_lib.models import CharLM

CONFIGS = {
    "1 layer": {"embed_dim": 64, "hidden_size": 128, "num_layers": 1, "dropout": 0.0, "tie_weights": False},
    "2 layers, dropout": {"embed_dim": 128, "hidden_size": 128, "num_layers": 2, "dropout": 0.1,
                          "tie_weights": False},
    "2 layers, dropout, tied": {"embed_dim": 128, "hidden_size": 128, "num_layers": 2, "dropout": 0.1,
                                "tie_weights": True},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/char_lm.json")
    args = ap.parse_args()
    epochs = 1 if args.quick else args.epochs
    corpus = tx.load_stdlib_corpus()
    uni = tx.unigram_probs(corpus.train_ids, corpus.vocab_size)
    bi = tx.bigram_probs(corpus.train_ids, corpus.vocab_size, alpha=0.1)
    X, Y = tx.batchify(corpus.train_ids, 32)
    Xv, Yv = tx.batchify(corpus.val_ids, 16)
    if args.quick:
        X, Y = X[:, :640], Y[:, :640]
    settings = {"batch_size": 32, "bptt": 64, "lr": 3e-3, "clip": 1.0, "epochs": epochs,
                "optimizer": "Adam", "python": platform.python_version(), "numpy": np.__version__,
                "corpus_modules": corpus.sources, "corpus_chars": len(corpus.text),
                "vocab_size": corpus.vocab_size}
    out = {"description": "character LM on the Python standard library's source: bits per character "
                          "(validation = last 10% of the text)",
           "settings": settings,
           "baselines": {"unigram_bpc": tx.bits_per_char(tx.unigram_nll(uni, corpus.val_ids)),
                         "bigram_bpc": tx.bits_per_char(tx.bigram_nll(bi, corpus.val_ids))},
           "models": {}}
    with threadpool_limits(1):
        for name, cfg in CONFIGS.items():
            L.seed(0)
            model = CharLM(corpus.vocab_size, **cfg)
            start = time.perf_counter()
            hist = L.fit(model, L.SoftmaxCrossEntropy(), L.Adam(model, lr=3e-3), X, Y,
                         epochs=epochs, bptt=64, clip=1.0, val=(Xv, Yv), progress=False)
            seconds = time.perf_counter() - start
            text = corpus.decode(model.generate(corpus.encode("def "), 300, 0.7,
                                                np.random.default_rng(0)))
            out["models"][name] = {
                "config": cfg, "params": int(model.num_params()), "seconds": round(seconds, 1),
                "steps": len(hist.loss),
                "train_bpc": [round(tx.bits_per_char(v), 4) for v in hist.epoch_loss],
                "val_bpc": [round(tx.bits_per_char(v), 4) for v in hist.val_loss],
                "sample_prompt": "def ", "sample_temperature": 0.7, "sample": text}
            print(f"{name}: {model.num_params()} params, val bpc {out['models'][name]['val_bpc']} "
                  f"({seconds:.0f} s)", flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
