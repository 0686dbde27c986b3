"""Chapter 11's longer runs: the training recipe of the shipped character model, the
ablations that change one thing at a time, and loading what they stored.

experiments/char_lm.py trains the shipped model with `train_char_lm`;
experiments/char_lm_ablations.py runs `ABLATIONS` on several seeds. Their outputs live in
lstm_lib/course/results/ (char_lm_model.npz, char_lm_training.json, char_lm_third_run.json,
char_lm_chapter_text.json, char_lm_first_run.json, char_lm_ablations.json).
"""
import json
import time
from importlib import resources

import numpy as np

from .. import text as tx
from ..char_lm import CharLM
from ..losses import SoftmaxCrossEntropy
from ..optim import Adam
from ..seeding import seed as seed_everything
from ..training import fit

RESULTS = "lstm_lib.course.results"

# The ablations: a base model and variants that each change one thing.
ABLATION_BASE = {"embed_dim": 128, "hidden_size": 128, "num_layers": 2, "dropout": 0.2,
                 "tie_weights": True}
ABLATIONS = {
    "base: 2 layers, tied, dropout 0.2": {},
    "1 layer (same embedding)": {"num_layers": 1},
    "untied, output starts N(0, 1) like the tied one": {"tie_weights": False,
                                                          "output_init": "embedding"},
    "untied, output starts U(+-1/sqrt(128))": {"tie_weights": False, "output_init": "linear"},
    "no dropout": {"dropout": 0.0},
    "weight drop 0.4 on W_h (AWD-LSTM)": {"weight_drop": 0.4},
}


def cosine_lr(lr, final_lr, k, total):
    """The learning rate of round k (0-based) of `total` on a cosine from lr down to final_lr."""
    return final_lr + (lr - final_lr) * (1 + np.cos(np.pi * k / max(1, total - 1))) / 2


def train_char_lm(corpus, config, recipe, max_epochs, train_chars=None, train_ids=None, log=print):
    """Train a CharLM(corpus.vocab_size, **config) and return (model, curve).

    Adam with global-norm clipping, truncated BPTT in windows of recipe["bptt"] over
    recipe["batch_size"] parallel streams of the training text (corpus.train_ids, or
    `train_ids`; its first `train_chars`), which start at a random offset each epoch. The
    validation score is the bits per character on the whole validation text (CharLM.nll).
    recipe: lr, clip, batch_size, bptt, seed, and the learning-rate schedule:

    - "halving" (the default): after each epoch, one that does not beat the best score so far
      by min_gain_bits halves the learning rate; training stops at the
      max_useless_halvings-th such epoch or after `max_epochs`;
    - "cosine": each epoch is cut into evals_per_epoch rounds (consecutive stretches of the
      streams), validation after each; the learning rate follows a cosine from lr down to
      final_lr over all max_epochs * evals_per_epoch rounds.

    The model keeps the weights of its best validation score. `curve` lists per epoch (per
    round with "cosine"): epoch, lr, train_bpc (mean over the stretch), val_bpc, seconds."""
    schedule = recipe.get("schedule", "halving")
    if schedule not in ("halving", "cosine"):
        raise ValueError(f"schedule must be 'halving' or 'cosine', got {schedule!r}")
    seed_everything(recipe["seed"])  # dropout masks
    model = CharLM(corpus.vocab_size, **config, rng=np.random.default_rng(recipe["seed"]))
    opt = Adam(model, lr=recipe["lr"])
    offsets = np.random.default_rng(1000 + recipe["seed"])
    ids = corpus.train_ids if train_ids is None else np.asarray(train_ids)
    ids = ids[:train_chars]
    per_epoch = recipe["evals_per_epoch"] if schedule == "cosine" else 1
    best, best_params, useless, curve = np.inf, None, 0, []
    for epoch in range(1, max_epochs + 1):
        X, Y = tx.batchify(ids[int(offsets.integers(0, recipe["bptt"])):], recipe["batch_size"])
        edges = np.linspace(0, X.shape[1], per_epoch + 1).astype(int)  # rounds of this epoch
        for a, b in zip(edges[:-1], edges[1:]):
            if schedule == "cosine":
                opt.lr = float(cosine_lr(recipe["lr"], recipe["final_lr"], len(curve), max_epochs * per_epoch))
            start = time.perf_counter()
            hist = fit(model, SoftmaxCrossEntropy(), opt, X[:, a:b], Y[:, a:b], epochs=1,
                       bptt=recipe["bptt"], clip=recipe["clip"], progress=False, on_divergence="raise")
            val = tx.bits_per_char(model.nll(corpus.val_ids))
            row = {"epoch": epoch, "lr": opt.lr, "train_bpc": round(tx.bits_per_char(hist.epoch_loss[0]), 4),
                   "val_bpc": round(val, 4), "seconds": round(time.perf_counter() - start, 1)}
            curve.append(row if schedule == "halving" else {"round": len(curve) + 1, **row,
                                                            "lr": round(opt.lr, 7)})
            log(json.dumps(curve[-1]))
            improved = val < best - recipe.get("min_gain_bits", 0.0)
            if val < best:
                best, best_params = val, {k: p.copy() for k, p in model.params.items()}
        if schedule == "halving" and not improved:
            opt.lr /= 2
            useless += 1
            if useless >= recipe["max_useless_halvings"]:
                break
    for k, p in model.params.items():
        p[...] = best_params[k]
    return model, curve


def shipped_model():
    """The CharLM trained by experiments/char_lm.py, loaded from the package (no download);
    `model.info["chars"]` is its vocabulary."""
    with resources.as_file(resources.files(RESULTS) / "char_lm_model.npz") as path:
        return CharLM.load(path)


def encode_for(model, text):
    """`text` as ids of the shipped model's vocabulary (characters it never saw -> unknown)."""
    chars = model.info["chars"]
    index = {c: i for i, c in enumerate(chars)}
    return np.array([index.get(c, len(chars) - 1) for c in text], np.int64)


def spread_table(runs):
    """{name: [value per seed]} -> {name: (mean, min, max, n)}."""
    return {name: (float(np.mean(v)), float(np.min(v)), float(np.max(v)), len(v))
            for name, v in runs.items()}


def separated(a, b):
    """True when the values of `a` and `b` (one per seed) do not overlap: the gap between the
    two means exceeds the spread of either (min to max)."""
    return max(a) < min(b) or max(b) < min(a)


def python_likeness(text, known_words):
    """How Python-like a text is, by measures a learner can check by eye:

    - indent 4: fraction of non-blank lines indented by a multiple of 4 spaces;
    - balanced: fraction of non-blank lines whose brackets (), [], {} close on the line;
    - def lines: fraction of lines starting with 'def ' that read 'def name(...):';
    - known words: fraction of the words (identifiers and keywords) that occur in
      `known_words` (e.g. the set of words of the training text);
    - parses: whether the whole text is valid Python (ast.parse)."""
    import ast
    import re

    lines = [ln for ln in text.split("\n") if ln.strip()]
    lead = [len(ln) - len(ln.lstrip(" ")) for ln in lines]
    pairs = {")": "(", "]": "[", "}": "{"}

    def balanced(line):
        stack = []
        for ch in line:
            if ch in "([{":
                stack.append(ch)
            elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
                return False
        return not stack

    defs = [ln.strip() for ln in lines if ln.strip().startswith("def ")]
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
    try:
        ast.parse(text)
        parses = True
    except SyntaxError:
        parses = False
    return {"indent 4": float(np.mean([k % 4 == 0 for k in lead])) if lines else 0.0,
            "balanced": float(np.mean([balanced(ln) for ln in lines])) if lines else 0.0,
            "def lines": float(np.mean([bool(re.fullmatch(r"def \w+\(.*\)( -> .+)?:", d)) for d in defs]))
            if defs else float("nan"),
            "known words": float(np.mean([w in known_words for w in words])) if words else 0.0,
            "parses": parses}
