"""Whole models built from the library's layers, for chapters 10 and 11.

- `adding_model` and `train_adding`: a recurrent layer read out at the last step, trained on
  fresh batches of the adding problem (chapter 10 and experiments/long_range.py).
- `StackedLSTM`: LSTM layers on top of each other with dropout between them, and optionally
  weight dropping on their recurrent weights (`WeightDropLSTM`).
- The character language model of chapter 11, built on StackedLSTM, is in char_lm.py.

Every model follows the Layer protocol of base.py: `params` and `grads` dicts with the same
keys, `forward`, `backward` (overwrites `grads`), `train`/`eval`, `reset_state`. The stacked
models are `Sequential`s with named parts.
"""
import contextlib
import time

import numpy as np

from .base import Sequential
from .datasets import adding_problem
from .gru import GRU
from .layers import Dropout, LastStep, Linear
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

class NamedSequential(Sequential):
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
        inner = ",\n  ".join(f"{n}: {l!r}".replace("\n", "\n  ") for n, l in self.parts.items())
        return f"{type(self).__name__}(\n  {inner}\n)"


class StackedLSTM(NamedSequential):
    """`num_layers` LSTM layers, each reading the hidden states of the one below, with
    dropout (probability `dropout`, training mode only) between them.

    forward(x (batch, time, input)) -> (batch, time, hidden) of the top layer. Parameters are
    named 'lstm0.W_x', 'lstm1.W_h', ...; `state` is the list of each layer's (h, c);
    `stateful` (settable) carries every layer's state from one call to the next.
    `weight_drop` > 0 drops entries of each layer's recurrent matrix W_h in training
    (WeightDropLSTM); with 0 the layers are plain LSTMs."""

    def __init__(self, input_size, hidden_size, num_layers=2, dropout=0.0, forget_bias=1.0,
                 stateful=False, weight_drop=0.0, dtype=np.float32, rng=None):
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        rng = rng or get_rng()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        parts = {}
        for k in range(num_layers):
            if k > 0:
                parts[f"drop{k}"] = Dropout(dropout, rng=rng)
            size = input_size if k == 0 else hidden_size
            parts[f"lstm{k}"] = (WeightDropLSTM(size, hidden_size, weight_drop, forget_bias=forget_bias,
                                                stateful=stateful, dtype=dtype, rng=rng) if weight_drop
                                 else LSTM(size, hidden_size, forget_bias=forget_bias,
                                           stateful=stateful, dtype=dtype, rng=rng))
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


class WeightDropLSTM(LSTM):
    """An LSTM whose recurrent weights are dropped in training (DropConnect on W_h, the
    "weight-dropped LSTM" of Merity, Keskar & Socher 2018): each forward call in training mode
    zeroes every entry of W_h with probability `weight_drop` and scales the rest by
    1 / (1 - weight_drop), one mask for all time steps of the call, so h_{t-1} -> h_t is
    regularised without a new mask at every step. Evaluation mode uses W_h as it is.
    With weight_drop = 0 it is exactly the LSTM. The parameters (and the optimiser's view of
    them) stay the undropped W_h; its gradient is the masked matrix's gradient times the mask."""

    def __init__(self, input_size, hidden_size, weight_drop=0.0, forget_bias=1.0, stateful=False,
                 dtype=np.float32, rng=None):
        if not 0.0 <= weight_drop < 1.0:
            raise ValueError(f"weight_drop must be in [0, 1), got {weight_drop}")
        rng = rng or get_rng()
        super().__init__(input_size, hidden_size, forget_bias=forget_bias, stateful=stateful,
                         dtype=dtype, rng=rng)
        self.weight_drop, self.rng, self.mask = weight_drop, rng, None

    def forward(self, x, h0=None, c0=None):
        self.mask = None
        if not (self.training and self.weight_drop):
            return super().forward(x, h0, c0)
        keep = self.rng.random(self.params["W_h"].shape) >= self.weight_drop
        self.mask = keep.astype(self.dtype) / (1.0 - self.weight_drop)  # (H, 4H)
        with self._dropped():
            return super().forward(x, h0, c0)

    def backward(self, dh, dh_T=None, dc_T=None):
        if self.mask is None:
            return super().backward(dh, dh_T, dc_T)
        with self._dropped():
            dx = super().backward(dh, dh_T, dc_T)
        self.grads["W_h"] *= self.mask  # d loss / d W_h = (d loss / d dropped W_h) * mask
        return dx

    @contextlib.contextmanager
    def _dropped(self):
        """The LSTM reads params["W_h"] in forward and backward: hand it the dropped matrix
        for the duration, then put the parameter back."""
        W = self.params["W_h"]
        self.params["W_h"] = W * self.mask
        try:
            yield
        finally:
            self.params["W_h"] = W
