"""Chapter 15, what a gated linear recurrence gives up: the running parity of a bit stream
(state tracking), which the LSTM learns and minGRU/minLSTM cannot; and the adding problem,
which all of them solve.

Parity: the input is a stream of random bits, the target at every step t the parity of the
bits so far (0 if an even number of ones, 1 if odd). Trained on sequences of `length` steps,
tested on 1000 fixed sequences of 256 steps, accuracy recorded per position: position t is
the accuracy on sequences of length t (the models are causal), so positions beyond the
training length measure whether the rule was learned, not memorised. Chance is 0.5.

The minGRU/minLSTM layers are the paper's log-space variant by default (log_space=True): the
stored study (experiments/state_tracking.py) trained that variant. log_space=False gives the
plain minGRU/minLSTM.

Used by chapter 15 (a short live run) and experiments/state_tracking.py (the full study).
"""
import time

import numpy as np

from ..base import Sequential
from ..layers import LastStep, Linear
from ..losses import SoftmaxCrossEntropy
from ..lstm import LSTM
from ..min_rnn import MinGRU, MinLSTM
from ..models import adding_model, train_adding
from ..optim import Adam, clip_grad_norm

# name -> (layer class, number of stacked layers)
KINDS = {"LSTM": (LSTM, 1), "minGRU": (MinGRU, 1), "minLSTM": (MinLSTM, 1),
         "minGRU x3": (MinGRU, 3), "minLSTM x3": (MinLSTM, 3)}


def recurrent_layers(kind, input_size, hidden_size, rng, log_space=True):
    """The recurrent part of a model: one LSTM, or 1 or 3 stacked minGRU/minLSTM layers
    (the log-space variant unless log_space=False)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    cls, depth = KINDS[kind]
    extra = {} if cls is LSTM else {"log_space": log_space}
    return [cls(input_size if k == 0 else hidden_size, hidden_size, rng=rng, **extra)
            for k in range(depth)]


def parity_batch(n, length, rng):
    """n random bit streams: x (n, length, 1) float32 and the running parity y (n, length) ints."""
    bits = rng.integers(0, 2, (n, length))
    return bits[..., None].astype(np.float32), np.cumsum(bits, axis=1) % 2


def parity_model(kind, hidden_size, rng, log_space=True):
    """Recurrent layers, then Linear(hidden, 2): two logits (even, odd) at every step."""
    return Sequential(*recurrent_layers(kind, 1, hidden_size, rng, log_space),
                      Linear(hidden_size, 2, rng=rng))


def parity_accuracy(model, length=256, n=1000, seed=999):
    """Accuracy at each position 1..length on n fixed test streams: an array (length,)."""
    x, y = parity_batch(n, length, np.random.default_rng(seed))
    was_training = model.training
    pred = model.eval().forward(x).argmax(axis=-1)
    if was_training:
        model.train()
    return (pred == y).mean(axis=0)


def train_parity(kind, hidden_size, length, steps, *, seed=0, lr=3e-3, batch_size=32, clip=1.0,
                 log_every=100, test_length=256, n_test=1000, log_space=True):
    """Train a parity model with Adam on fresh batches (cross-entropy at every step).

    Returns (model, result): result holds plain numbers (JSON-ready): kind, hidden, params,
    length, steps, seed, train_loss (mean over each `log_every` steps), accuracy (per position
    1..test_length on the fixed test streams), seconds."""
    rng = np.random.default_rng(seed)  # the model's initial weights
    data_rng = np.random.default_rng(10_000 + seed)  # the training batches
    model = parity_model(kind, hidden_size, rng, log_space)
    loss_fn, opt = SoftmaxCrossEntropy(), Adam(model, lr=lr)
    start, recent, curve = time.perf_counter(), [], []
    for step in range(1, steps + 1):
        x, y = parity_batch(batch_size, length, data_rng)
        recent.append(loss_fn.forward(model.forward(x), y))
        model.backward(loss_fn.backward())
        clip_grad_norm(model, clip)
        opt.step()
        if step % log_every == 0 or step == steps:
            curve.append(round(float(np.mean(recent)), 5))
            recent = []
    acc = parity_accuracy(model, test_length, n_test)
    result = {"kind": kind, "hidden": hidden_size, "params": int(model.num_params()),
              "length": length, "steps": steps, "seed": seed, "lr": lr, "batch_size": batch_size,
              "train_loss": curve, "accuracy": [round(float(a), 4) for a in acc],
              "seconds": round(time.perf_counter() - start, 2)}
    return model, result


def adding_model_of(kind, hidden_size, rng, log_space=True):
    """The adding-problem model of chapter 10 (recurrent layers, last step, Linear(hidden, 1));
    for 'LSTM' exactly chapter 10's (forget-gate bias 1.0)."""
    if kind == "LSTM":
        return adding_model("LSTM", hidden_size, rng=rng)
    return Sequential(*recurrent_layers(kind, 2, hidden_size, rng, log_space), LastStep(),
                      Linear(hidden_size, 1, rng=rng))


def train_adding_kind(kind, length, hidden_size, steps, *, seed=0, log_space=True, **settings):
    """Chapter 10's adding-problem training (lstm_lib.models.train_adding) for any kind here."""
    model = adding_model_of(kind, hidden_size, np.random.default_rng(seed), log_space)
    return train_adding(kind, length, hidden_size, steps, seed=seed, model=model, **settings)
