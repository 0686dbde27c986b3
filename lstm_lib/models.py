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


# --- stacked LSTM -----------------------------------------------------------------------------

class _Composite(Layer):
    """A layer made of sub-layers `self.parts` (name -> layer); params/grads keys 'name.key'."""

    @property
    def params(self):
        return {f"{n}.{k}": v for n, l in self.parts.items() for k, v in l.params.items()}

    @property
    def grads(self):
        return {f"{n}.{k}": v for n, l in self.parts.items() for k, v in l.grads.items()}

    @property
    def dtype(self):
        return next((l.dtype for l in self.parts.values() if l.dtype is not None), None)

    @property
    def layers(self):  # lets the training loop find the recurrent layers inside
        return list(self.parts.values())

    def train(self):
        for l in self.parts.values():
            l.train()
        self.training = True
        return self

    def eval(self):
        for l in self.parts.values():
            l.eval()
        self.training = False
        return self

    def astype(self, dtype):
        for l in self.parts.values():
            l.astype(dtype)
        return self

    def reset_state(self):
        for l in self.parts.values():
            l.reset_state()

    def zero_grad(self):
        for l in self.parts.values():
            l.zero_grad()


class StackedLSTM(_Composite):
    """`num_layers` LSTM layers, each reading the hidden states of the one below, with
    dropout (probability `dropout`, training mode only) between them.

    forward(x (batch, time, input)) -> (batch, time, hidden) of the top layer. Parameters are
    named 'lstm0.W_x', 'lstm1.W_h', ...; `state` is the list of each layer's (h, c)."""

    def __init__(self, input_size, hidden_size, num_layers=2, dropout=0.0, forget_bias=1.0,
                 stateful=False, dtype=np.float32, rng=None):
        self.training = True
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        rng = rng or get_rng()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.parts = {}
        for k in range(num_layers):
            if k > 0:
                self.parts[f"drop{k}"] = Dropout(dropout, rng=rng)
            self.parts[f"lstm{k}"] = LSTM(input_size if k == 0 else hidden_size, hidden_size,
                                          forget_bias=forget_bias, stateful=stateful,
                                          dtype=dtype, rng=rng)

    @property
    def lstms(self):
        return [self.parts[f"lstm{k}"] for k in range(self.num_layers)]

    @property
    def state(self):
        return [l.state for l in self.lstms]

    def forward(self, x):
        for layer in self.parts.values():
            x = layer.forward(x)
        return x

    def backward(self, dh):
        for layer in reversed(list(self.parts.values())):
            dh = layer.backward(dh)
        return dh


# --- the character language model ------------------------------------------------------------

class CharLM(_Composite):
    """Embedding -> StackedLSTM -> Linear: logits for the next character at every step.

    forward(ids (batch, time) ints) -> logits (batch, time, vocab). Dropout (probability
    `dropout`) is applied between the LSTM layers and on the top layer's output.

    With tie_weights=True the output layer uses the embedding matrix itself, logits =
    h @ E.T + b: one (vocab, dim) matrix both reads characters in and scores them out. That
    needs embed_dim == hidden_size; with `proj_size` set to embed_dim, a Linear projection
    (hidden -> embed_dim) in between makes tying possible for any hidden size. The tied
    matrix's gradient is the sum of what both uses give it.
    """

    def __init__(self, vocab_size, embed_dim, hidden_size, num_layers=1, dropout=0.0,
                 tie_weights=False, proj_size=None, forget_bias=1.0, dtype=np.float32, rng=None):
        self.training = True
        rng = rng or get_rng()
        self.vocab_size, self.tie_weights = vocab_size, tie_weights
        top = hidden_size if proj_size is None else proj_size
        if tie_weights and top != embed_dim:
            raise ValueError(f"weight tying needs the output layer's input ({top}) to equal "
                             f"embed_dim ({embed_dim}): set hidden_size = embed_dim, or "
                             f"proj_size = embed_dim")
        self.parts = {"embed": Embedding(vocab_size, embed_dim, dtype=dtype, rng=rng)}
        self.parts["rnn"] = StackedLSTM(embed_dim, hidden_size, num_layers, dropout,
                                        forget_bias=forget_bias, dtype=dtype, rng=rng)
        self.parts["drop"] = Dropout(dropout, rng=rng)
        if proj_size is not None:
            self.parts["proj"] = Linear(hidden_size, proj_size, dtype=dtype, rng=rng)
        if tie_weights:
            self.parts["out"] = _TiedOutput(self.parts["embed"], dtype)
        else:
            self.parts["out"] = Linear(top, vocab_size, dtype=dtype, rng=rng)

    @property
    def rnn(self):
        return self.parts["rnn"]

    def forward(self, ids):
        x = self.parts["embed"].forward(ids)  # (B, T, E)
        for name in ("rnn", "drop", "proj", "out"):
            if name in self.parts:
                x = self.parts[name].forward(x)
        return x  # (B, T, vocab)

    def backward(self, dlogits):
        d = dlogits
        for name in ("out", "proj", "drop", "rnn"):
            if name in self.parts:
                d = self.parts[name].backward(d)
        self.parts["embed"].backward(d)  # overwrites embed's grads ...
        if self.tie_weights:  # ... so the output's share of the tied matrix is added after
            self.parts["embed"].grads["W"] += self.parts["out"].dW

    def generate(self, prompt_ids, n, temperature=1.0, rng=None):
        """Feed `prompt_ids` (1-D), then sample `n` more ids one at a time, each fed back in.
        Returns the n new ids. Runs in evaluation mode; the model's mode is restored."""
        from .text import sample

        rng = rng or get_rng()
        was_training = self.training
        lstms = self.rnn.lstms
        saved = [l.stateful for l in lstms]
        self.eval()
        try:
            for l in lstms:
                l.stateful = True
                l.reset_state()
            logits = self.forward(np.asarray(prompt_ids, np.int64)[None, :])[0, -1]
            out = []
            for _ in range(n):
                nxt = sample(logits, temperature, rng)
                out.append(nxt)
                logits = self.forward(np.array([[nxt]]))[0, -1]
        finally:
            for l, s in zip(lstms, saved):
                l.stateful = s
                l.reset_state()
            if was_training:
                self.train()
        return np.array(out, dtype=np.int64)


class _TiedOutput(Layer):
    """logits = h @ E.T + b with E the embedding's matrix (not a parameter of its own here:
    only b is; the gradient for E is left in `dW` for the model to add)."""

    def __init__(self, embedding, dtype):
        super().__init__()
        self.embedding = embedding
        self._add_param("b", np.zeros(embedding.num_embeddings, dtype))
        self._cache = None
        self.dW = None

    def forward(self, h):
        self._cache = h
        return h @ self.embedding.params["W"].T + self.params["b"]

    def backward(self, dlogits):
        h = self._need_cache()
        V, E = self.embedding.params["W"].shape
        d2 = np.asarray(dlogits).reshape(-1, V)
        self.dW = d2.T @ h.reshape(-1, E)  # (V, E): the output's share of dE
        np.sum(d2, axis=0, out=self.grads["b"])
        return dlogits @ self.embedding.params["W"]
