"""Whole models built from the library's layers, for chapters 10 and 11.

- `adding_model` and `train_adding`: a recurrent layer read out at the last step, trained on
  fresh batches of the adding problem (chapter 10 and experiments/long_range.py).
- `StackedLSTM`: LSTM layers on top of each other with dropout between them.
- `CharLM`: the character language model Embedding -> StackedLSTM -> Linear, with optional
  weight tying between the embedding and the output layer, sampling (`generate`), scoring a
  text (`nll`) and saving/loading its weights (chapter 11).

Every model follows the Layer protocol of base.py: `params` and `grads` dicts with the same
keys, `forward`, `backward` (overwrites `grads`), `train`/`eval`, `reset_state`. The stacked
models are `Sequential`s with named parts.
"""
import contextlib
import json
import time

import numpy as np

from .base import Layer, Sequential
from .datasets import adding_problem
from .gru import GRU
from .layers import Dropout, Embedding, LastStep, Linear
from .losses import MSELoss, SoftmaxCrossEntropy
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

class _Named(Sequential):
    """A Sequential whose layers have names (`self.parts`, name -> layer, in order): params
    and grads keys are 'name.key' instead of 'index.key'. Everything else (forward, backward,
    train/eval, astype, reset_state, zero_grad, dtype) is Sequential's."""

    def __init__(self, parts):
        super().__init__(*parts.values())
        self.parts = parts

    @property
    def params(self):
        return {f"{n}.{k}": v for n, l in self.parts.items() for k, v in l.params.items()}

    @property
    def grads(self):
        return {f"{n}.{k}": v for n, l in self.parts.items() for k, v in l.grads.items()}

    def __repr__(self):
        inner = ",\n  ".join(f"{n}: {l!r}" for n, l in self.parts.items())
        return f"{type(self).__name__}(\n  {inner}\n)"


class StackedLSTM(_Named):
    """`num_layers` LSTM layers, each reading the hidden states of the one below, with
    dropout (probability `dropout`, training mode only) between them.

    forward(x (batch, time, input)) -> (batch, time, hidden) of the top layer. Parameters are
    named 'lstm0.W_x', 'lstm1.W_h', ...; `state` is the list of each layer's (h, c);
    `stateful` (settable) carries every layer's state from one call to the next."""

    def __init__(self, input_size, hidden_size, num_layers=2, dropout=0.0, forget_bias=1.0,
                 stateful=False, dtype=np.float32, rng=None):
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        rng = rng or get_rng()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        parts = {}
        for k in range(num_layers):
            if k > 0:
                parts[f"drop{k}"] = Dropout(dropout, rng=rng)
            parts[f"lstm{k}"] = LSTM(input_size if k == 0 else hidden_size, hidden_size,
                                     forget_bias=forget_bias, stateful=stateful, dtype=dtype, rng=rng)
        super().__init__(parts)

    @property
    def lstms(self):
        return [self.parts[f"lstm{k}"] for k in range(self.num_layers)]

    @property
    def state(self):
        return [l.state for l in self.lstms]

    @property
    def stateful(self):
        return all(l.stateful for l in self.lstms)

    @stateful.setter
    def stateful(self, flag):
        for l in self.lstms:
            l.stateful = bool(flag)
# --- the character language model ------------------------------------------------------------

class CharLM(_Named):
    """Embedding -> StackedLSTM -> Dropout -> Linear: logits for the next character at every
    step. forward(ids (batch, time) ints) -> logits (batch, time, vocab).

    Dropout (probability `dropout`, training mode only) sits between the LSTM layers and on
    the top layer's output. With tie_weights=True the output layer uses the embedding matrix
    itself, logits = h @ E.T + b: one (vocab, dim) matrix both reads characters in and scores
    them out. That needs embed_dim == hidden_size; with `proj_size` set to embed_dim, a Linear
    projection (hidden -> embed_dim) in between makes tying possible for any hidden size. The
    tied matrix's gradient is the sum of what both uses give it.

    The embedding starts N(0, 1) (as torch.nn.Embedding), so a tied output layer does too.
    An untied output layer starts like torch.nn.Linear, uniform in +-1/sqrt(its input), unless
    output_init="embedding": then its weights are N(0, 1) as well, the scale a tied model
    starts from (so that tied and untied differ in the tying alone).
    """

    def __init__(self, vocab_size, embed_dim, hidden_size, num_layers=1, dropout=0.0,
                 tie_weights=False, proj_size=None, forget_bias=1.0, output_init="linear",
                 dtype=np.float32, rng=None):
        rng = rng or get_rng()
        top = hidden_size if proj_size is None else proj_size
        if tie_weights and top != embed_dim:
            raise ValueError(f"weight tying needs the output layer's input ({top}) to equal "
                             f"embed_dim ({embed_dim}): set hidden_size = embed_dim, or "
                             f"proj_size = embed_dim")
        if output_init not in ("linear", "embedding"):
            raise ValueError(f"output_init must be 'linear' or 'embedding', got {output_init!r}")
        self.config = {"vocab_size": vocab_size, "embed_dim": embed_dim,
                       "hidden_size": hidden_size, "num_layers": num_layers, "dropout": dropout,
                       "tie_weights": tie_weights, "proj_size": proj_size,
                       "forget_bias": forget_bias, "output_init": output_init}
        self.vocab_size, self.tie_weights = vocab_size, tie_weights
        parts = {"embed": Embedding(vocab_size, embed_dim, dtype=dtype, rng=rng)}
        parts["rnn"] = StackedLSTM(embed_dim, hidden_size, num_layers, dropout,
                                   forget_bias=forget_bias, dtype=dtype, rng=rng)
        parts["drop"] = Dropout(dropout, rng=rng)
        if proj_size is not None:
            parts["proj"] = Linear(hidden_size, proj_size, dtype=dtype, rng=rng)
        if tie_weights:
            parts["out"] = _TiedOutput(parts["embed"], dtype)
        else:
            parts["out"] = Linear(top, vocab_size, dtype=dtype, rng=rng)
            if output_init == "embedding":
                parts["out"].params["W"][...] = rng.standard_normal((top, vocab_size))
        super().__init__(parts)

    @property
    def rnn(self):
        return self.parts["rnn"]

    @property
    def stateful(self):
        """Whether the LSTM layers carry their state from one forward call to the next."""
        return self.rnn.stateful

    @stateful.setter
    def stateful(self, flag):
        self.rnn.stateful = flag

    def backward(self, dlogits):
        super().backward(dlogits)  # the embedding's backward overwrites its grads ...
        if self.tie_weights:  # ... so the output's share of the tied matrix is added after
            self.parts["embed"].grads["W"] += self.parts["out"].dW

    def generate(self, prompt_ids, n, temperature=1.0, rng=None):
        """Feed `prompt_ids` (1-D), then sample `n` more ids one at a time, each fed back in
        with the state carried. Returns the n new ids. Runs in evaluation mode; the model's
        mode and statefulness are restored (and its state reset) afterwards."""
        from .text import sample

        rng = rng or get_rng()
        with _evaluating(self):
            logits = self.forward(np.asarray(prompt_ids, np.int64)[None, :])[0, -1]
            out = []
            for _ in range(n):
                nxt = sample(logits, temperature, rng)
                out.append(nxt)
                logits = self.forward(np.array([[nxt]]))[0, -1]
        return np.array(out, dtype=np.int64)

    def nll(self, ids, streams=8, warmup=64, chunk=256):
        """Mean negative log-likelihood, nats per character, of ids[1:], each character given
        the ones before it: the number an n-gram model's `nll(ids)` gives on the same text.

        The text is cut into `streams` consecutive pieces run side by side; each piece after
        the first starts `warmup` characters early (those are read, not scored), so every
        scored character has at least `warmup` characters of context, as it would in one long
        run. Evaluation mode, the state carried in chunks of `chunk` steps."""
        ids = np.asarray(ids, np.int64)
        n = len(ids) - 1
        if n < 1:
            raise ValueError(f"need at least 2 ids to score, got {len(ids)}")
        streams = min(streams, n)
        piece = -(-n // streams)
        rows = []
        for s in range(0, n, piece):
            e, w = min(s + piece, n), min(warmup, s)
            y = ids[s - w + 1:e + 1].copy()
            y[:w] = -1  # read, not scored
            rows.append((ids[s - w:e], y))
        width = max(len(x) for x, _ in rows)
        X = np.zeros((len(rows), width), np.int64)
        Y = np.full((len(rows), width), -1, np.int64)
        for r, (x, y) in enumerate(rows):
            X[r, :len(x)], Y[r, :len(y)] = x, y
        ce = SoftmaxCrossEntropy(ignore_index=-1)
        total, count = 0.0, 0
        with _evaluating(self):
            for t in range(0, width, chunk):
                logits, y = self.forward(X[:, t:t + chunk]), Y[:, t:t + chunk]
                k = int((y != -1).sum())
                if k:
                    total += ce.forward(logits.astype(np.float64), y) * k
                    count += k
        assert count == n, (count, n)
        return total / n

    def save(self, path, **info):
        """Write the parameters, the constructor's arguments and `info` (JSON-ready values,
        e.g. the vocabulary) to an .npz file that CharLM.load reads back."""
        arrays = {f"param:{k}": v for k, v in self.params.items()}
        meta = {"config": self.config, "dtype": str(self.dtype), "info": info}
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path):
        """The model stored by `save` (path or file object); its `info` dict is `model.info`."""
        with np.load(path) as f:
            meta = json.loads(str(f["meta"]))
            model = cls(**meta["config"], dtype=np.dtype(meta["dtype"]), rng=np.random.default_rng(0))
            stored = {k.removeprefix("param:"): f[k] for k in f.files if k.startswith("param:")}
        if set(stored) != set(model.params):
            raise ValueError(f"{path}: parameters {sorted(stored)} do not match the model's "
                             f"{sorted(model.params)}")
        for k, p in model.params.items():
            p[...] = stored[k]
        model.info = meta["info"]
        return model


@contextlib.contextmanager
def _evaluating(model):
    """Evaluation mode and carried state for a run of forward calls; afterwards the mode and
    statefulness are put back and the state reset."""
    was_training, was_stateful = model.training, model.stateful
    model.eval()
    model.stateful = True
    model.reset_state()
    try:
        yield model
    finally:
        model.stateful = was_stateful
        model.reset_state()
        if was_training:
            model.train()


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
