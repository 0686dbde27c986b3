"""Whole models built from the library's layers, for chapters 10 and 11.

- `adding_model` and `train_adding`: a recurrent layer read out at the last step, trained on
  fresh batches of the adding problem (chapter 10 and experiments/long_range.py).
- `StackedLSTM`: LSTM layers on top of each other with dropout between them.
- `CharLM`: the character language model Embedding -> StackedLSTM -> Linear, with optional
  weight tying between the embedding and the output layer (chapter 11).

Every model follows the Layer protocol of base.py: `params` and `grads` dicts with the same
keys, `forward`, `backward` (overwrites `grads`), `train`/`eval`, `reset_state`.
"""
import time

import numpy as np

from .base import Layer, Sequential
from .datasets import adding_problem
from .gru import GRU
from .layers import Dropout, Embedding, LastStep, Linear
from .losses import MSELoss
from .lstm import LSTM
from .optim import Adam, clip_grad_norm
from .rnn import RNN
from .seeding import get_rng

# --- the adding problem ------------------------------------------------------------------

KINDS = {"RNN": RNN, "GRU": GRU, "LSTM": LSTM}


def adding_model(kind, hidden_size, forget_bias=1.0, rng=None):
    """Sequential(recurrent layer, LastStep, Linear(hidden, 1)) for inputs with 2 features."""
    rng = rng or get_rng()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    if kind == "LSTM":
        rec = LSTM(2, hidden_size, forget_bias=forget_bias, rng=rng)
    else:
        rec = KINDS[kind](2, hidden_size, rng=rng)
    return Sequential(rec, LastStep(), Linear(hidden_size, 1, rng=rng))


def train_adding(kind, length, hidden_size, steps, *, batch_size=64, lr=3e-3, clip=1.0,
                 forget_bias=1.0, eval_every=100, n_test=1000, stop_below=None, seed=0,
                 model=None):
    """Train a model on the adding problem with Adam, a fresh batch every step.

    Every `eval_every` steps the MSE on a fixed test set of `n_test` sequences is recorded.
    Training stops early once the test MSE is below `stop_below` (if given).
    Returns (model, result) where result is a dict of plain numbers (JSON-ready):
    kind, length, hidden, params, steps, test_mse (lists), final_mse, solved_step (first
    evaluation with test MSE < 0.01, or None), seconds.
    """
    rng = np.random.default_rng(seed)
    data_rng = np.random.default_rng(10_000 + seed)
    x_test, y_test = adding_problem(n_test, length, rng=np.random.default_rng(999))
    if model is None:
        model = adding_model(kind, hidden_size, forget_bias=forget_bias, rng=rng)
    loss_fn = MSELoss()
    opt = Adam(model, lr=lr)
    result = {"kind": kind, "length": length, "hidden": hidden_size,
              "params": int(sum(p.size for p in model.params.values())),
              "forget_bias": forget_bias if kind == "LSTM" else None, "lr": lr,
              "batch_size": batch_size, "seed": seed, "steps": [], "test_mse": [],
              "train_loss": [], "solved_step": None}
    start = time.perf_counter()
    recent = []
    for step in range(1, steps + 1):
        x, y = adding_problem(batch_size, length, rng=data_rng)
        recent.append(loss_fn.forward(model.forward(x), y))
        model.backward(loss_fn.backward())
        clip_grad_norm(model, clip)
        opt.step()
        if step % eval_every == 0 or step == steps:
            model.eval()
            mse = loss_fn.forward(model.forward(x_test), y_test)
            model.train()
            result["steps"].append(step)
            result["test_mse"].append(round(float(mse), 6))
            result["train_loss"].append(round(float(np.mean(recent)), 6))
            recent = []
            if result["solved_step"] is None and mse < 0.01:
                result["solved_step"] = step
            if stop_below is not None and mse < stop_below:
                break
    result["seconds"] = round(time.perf_counter() - start, 2)
    result["final_mse"] = result["test_mse"][-1]
    return model, result
