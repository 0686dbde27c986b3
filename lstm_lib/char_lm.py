"""The character language model of chapter 11: Embedding -> StackedLSTM -> Linear, with
optional weight tying between the embedding and the output layer, sampling (`generate`),
scoring a text the way n-gram models are scored (`nll`), and saving/loading its weights.
"""
import contextlib
import json

import numpy as np

from .base import Layer
from .layers import Dropout, Embedding, Linear
from .losses import SoftmaxCrossEntropy
from .models import NamedSequential, StackedLSTM
from .seeding import get_rng


class CharLM(NamedSequential):
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

    `weight_drop` > 0 regularises the recurrent connections too: each LSTM layer drops
    entries of its W_h in training (models.WeightDropLSTM).
    """

    def __init__(self, vocab_size, embed_dim, hidden_size, num_layers=1, dropout=0.0,
                 tie_weights=False, proj_size=None, forget_bias=1.0, output_init="linear",
                 weight_drop=0.0, dtype=np.float32, rng=None):
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
                       "forget_bias": forget_bias, "output_init": output_init,
                       "weight_drop": weight_drop}
        self.vocab_size, self.tie_weights = vocab_size, tie_weights
        parts = {"embed": Embedding(vocab_size, embed_dim, dtype=dtype, rng=rng)}
        parts["rnn"] = StackedLSTM(embed_dim, hidden_size, num_layers, dropout,
                                   forget_bias=forget_bias, weight_drop=weight_drop, dtype=dtype,
                                   rng=rng)
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
