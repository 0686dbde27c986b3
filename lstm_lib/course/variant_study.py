"""Chapter 14's study: LSTM variants trained on three small tasks that tell them apart.

- `adding`: the adding problem (datasets.adding_problem): remember two marked values over a
  gap; each sequence starts from a zero state, so nothing ever has to be erased.
- `reset`: a continual stream whose target at every step is the running sum of the values
  since the last reset marker. The state is carried from window to window and never reset
  from outside: to follow the stream the cell must erase its own content at each marker.
- `lm`: a short character language model on chapter 11's corpus (lstm_lib.text), trained
  with truncated BPTT on a continual stream as well.

Each `train_*` function builds a model around a variant layer (lstm_lib.variants), trains it
with Adam and gradient clipping, and returns (model, result) with `result` a JSON-ready dict.
experiments/variants.py runs the full sweep; the chapter runs a few of them live.
"""
import time

import numpy as np

from .. import text as tx
from ..base import Sequential
from ..datasets import adding_problem
from ..layers import Embedding, LastStep, Linear
from ..losses import MSELoss, SoftmaxCrossEntropy
from ..optim import Adam, clip_grad_norm
from ..variants import make_variant

TASKS = ("adding", "reset", "lm")
SOLVED_MSE = 0.01  # adding problem: solved below this test MSE (the constant guess scores 1/6)


# --- the reset task -------------------------------------------------------------------------

def reset_sum_stream(n, length, rng, p_reset=0.1):
    """n parallel streams of `length` steps. x (n, length, 2): channel 0 a value uniform in
    [0, 1), channel 1 a reset marker (1 with probability p_reset, else 0). y (n, length, 1): the
    running sum of the values since the last marker; a marked step starts a new sum with its
    own value. Before the first marker the sum runs from the start of the stream."""
    values = rng.random((n, length))
    marks = (rng.random((n, length)) < p_reset).astype(np.float64)
    y = np.empty((n, length))
    total = np.zeros(n)
    for t in range(length):
        total = total * (1 - marks[:, t]) + values[:, t]  # (n,)
        y[:, t] = total
    x = np.stack([values, marks], axis=-1).astype(np.float32)
    return x, y[..., None].astype(np.float32)


class StreamModel(Sequential):
    """A variant layer and a Linear read-out at every step, for a continual stream: with
    `carry` on, each forward starts from the state the previous one ended in (the gradient
    stops there: truncated BPTT). `reset_state()` starts again from zeros."""

    def __init__(self, rec, head, embed=None):
        super().__init__(*([embed] if embed else []), rec, head)
        self.rec, self.carry, self._state = rec, True, None

    def forward(self, x):
        for layer in self.layers:
            if layer is self.rec:
                state = self._state if (self.carry and self._state) else ()
                x = layer.forward(x, *state)  # (batch, time, H); state: (h, c), FGR's (h, c, q)
                self._state = layer.state
            else:
                x = layer.forward(x)
        return x

    def reset_state(self):
        self._state = None


def adding_model(label, hidden_size, forget_bias=1.0, rng=None):
    """Sequential(variant(2, hidden), LastStep, Linear(hidden, 1)) for the adding problem."""
    rec = make_variant(label, 2, hidden_size, forget_bias=forget_bias, rng=rng)
    return Sequential(rec, LastStep(), Linear(hidden_size, 1, rng=rng))


def reset_model(label, hidden_size, forget_bias=1.0, rng=None):
    """StreamModel(variant(2, hidden), Linear(hidden, 1)) for the reset task."""
    rec = make_variant(label, 2, hidden_size, forget_bias=forget_bias, rng=rng)
    return StreamModel(rec, Linear(hidden_size, 1, rng=rng))


def normalized_mse(pred, y):
    """MSE divided by the variance of the target: 1 for the best constant guess, 0 for perfect."""
    return float(np.mean((pred - y) ** 2) / np.var(y))


# --- training -------------------------------------------------------------------------------

def _new_result(task, label, hidden_size, forget_bias, seed, model, **settings):
    return {"task": task, "variant": label, "hidden": hidden_size, "forget_bias": forget_bias,
            "seed": seed, "params": int(model.num_params()), **settings,
            "steps": [], "metric": [], "train_loss": []}


def _adam_step(model, loss_fn, opt, clip, x, y):
    """One update; returns the loss, or None (and no update) once it is NaN or inf."""
    with np.errstate(over="ignore", invalid="ignore"):  # an unbounded cell may overflow
        loss = loss_fn.forward(model.forward(x), y)
        if not np.isfinite(loss):
            return None
        model.backward(loss_fn.backward())
        if not np.isfinite(clip_grad_norm(model, clip)):
            return None
    opt.step()
    return loss


def _record(result, step, metric, recent, digits=6):
    """Append one evaluation; a metric that is not finite is stored as None (diverged)."""
    result["steps"].append(step)
    result["metric"].append(round(float(metric), digits) if np.isfinite(metric) else None)
    result["train_loss"].append(round(float(np.mean(recent)), digits) if recent else None)


def _train(model, loss_fn, opt, clip, batch, evaluate, result, steps, eval_every, digits=6):
    """The loop every task shares: `batch(step)` gives (x, y) for one Adam update, and every
    `eval_every` steps `evaluate()` gives the metric. Stops (and says where) if the loss or the
    gradient stops being finite. Fills `result`; returns it."""
    start, recent = time.perf_counter(), []
    for step in range(1, steps + 1):
        loss = _adam_step(model, loss_fn, opt, clip, *batch(step))
        if loss is None:
            result["diverged_at"] = step
            break
        recent.append(loss)
        if step % eval_every == 0:
            _record(result, step, evaluate(), recent, digits)
            recent = []
    result["seconds"] = round(time.perf_counter() - start, 2)
    diverged = "diverged_at" in result or not result["metric"]
    result["final"] = None if diverged else result["metric"][-1]
    return result


def train_adding(label, length=50, hidden_size=16, steps=2000, *, forget_bias=1.0, seed=0,
                 batch_size=64, lr=3e-3, clip=1.0, eval_every=100, n_test=500):
    """The adding problem with fresh batches (as chapter 10). Metric: test MSE on `n_test`
    fixed sequences (the constant guess 1 scores 1/6). Runs all `steps` (no early stop);
    `solved_step` is the first evaluation below SOLVED_MSE."""
    rng = np.random.default_rng(seed)
    data_rng = np.random.default_rng(10_000 + seed)
    x_test, y_test = adding_problem(n_test, length, rng=np.random.default_rng(999))
    model = adding_model(label, hidden_size, forget_bias, rng)
    loss_fn, opt = MSELoss(), Adam(model, lr=lr)
    result = _new_result("adding", label, hidden_size, forget_bias, seed, model, length=length,
                         lr=lr, batch_size=batch_size, metric_name="test MSE")

    def test_mse():
        with np.errstate(over="ignore", invalid="ignore"):
            return loss_fn.forward(model.forward(x_test), y_test)

    _train(model, loss_fn, opt, clip, lambda step: adding_problem(batch_size, length, rng=data_rng),
           test_mse, result, steps, eval_every)
    result["solved_step"] = next((s for s, m in zip(result["steps"], result["metric"])
                                  if m is not None and m < SOLVED_MSE), None)
    return model, result


def train_reset(label, hidden_size=16, steps=1500, *, forget_bias=1.0, seed=0, batch_size=32,
                window=50, lr=3e-3, clip=1.0, eval_every=100, test_length=2000, p_reset=0.1):
    """The reset task on `batch_size` continual streams, `window` steps per update, the state
    carried across windows and never reset. Metric: normalised MSE (1 = the constant guess) on
    16 fixed test streams of `test_length` steps, run from a zero state in one pass."""
    rng = np.random.default_rng(seed)
    data_rng = np.random.default_rng(10_000 + seed)
    x_test, y_test = reset_sum_stream(16, test_length, np.random.default_rng(999), p_reset)
    model = reset_model(label, hidden_size, forget_bias, rng)
    loss_fn, opt = MSELoss(), Adam(model, lr=lr)
    result = _new_result("reset", label, hidden_size, forget_bias, seed, model, window=window,
                         lr=lr, batch_size=batch_size, metric_name="test MSE / Var(y)")
    X, Y = reset_sum_stream(batch_size, steps * window, data_rng, p_reset)  # one long stream each

    def window_of(step):
        cut = slice((step - 1) * window, step * window)
        return X[:, cut], Y[:, cut]

    _train(model, loss_fn, opt, clip, window_of, lambda: evaluate_stream(model, x_test, y_test),
           result, steps, eval_every)
    return model, result


def evaluate_stream(model, x, y):
    """Normalised MSE of a StreamModel on whole streams from a zero state; the training
    state it carried is put back afterwards."""
    saved = model._state
    model.reset_state()
    with np.errstate(over="ignore", invalid="ignore"):
        pred = model.forward(x)
    model._state = saved
    return normalized_mse(pred, y) if np.isfinite(pred).all() else float("inf")


def lm_data(max_chars=None):
    """Chapter 11's corpus (lstm_lib.text.load_stdlib_corpus) and its validation stream."""
    return tx.load_stdlib_corpus(max_chars=max_chars)


def train_lm(label, hidden_size=64, steps=1000, *, forget_bias=1.0, seed=0, corpus=None,
             embed_dim=16, batch_size=32, window=32, lr=1e-2, clip=1.0, eval_every=100,
             val_chars=20_000):
    """A character language model Embedding -> variant -> Linear trained with truncated BPTT on
    chapter 11's corpus (state carried across windows). Metric: bits per character on the
    first `val_chars` characters of the validation part, as 8 continual streams."""
    corpus = corpus or lm_data()
    rng = np.random.default_rng(seed)
    rec = make_variant(label, embed_dim, hidden_size, forget_bias=forget_bias, rng=rng)
    model = StreamModel(rec, Linear(hidden_size, corpus.vocab_size, rng=rng),
                        embed=Embedding(corpus.vocab_size, embed_dim, rng=rng))
    loss_fn, opt = SoftmaxCrossEntropy(), Adam(model, lr=lr)
    result = _new_result("lm", label, hidden_size, forget_bias, seed, model, window=window,
                         lr=lr, batch_size=batch_size, embed_dim=embed_dim,
                         metric_name="validation bits per character")
    X, Y = tx.batchify(corpus.train_ids, batch_size)
    Xv, Yv = tx.batchify(corpus.val_ids[:val_chars + 1], 8)
    n_windows = X.shape[1] // window

    def window_of(step):
        k = (step - 1) % n_windows
        if k == 0:
            model.reset_state()  # a new pass over the text starts from zeros
        return X[:, k * window:(k + 1) * window], Y[:, k * window:(k + 1) * window]

    _train(model, loss_fn, opt, clip, window_of, lambda: lm_bits_per_char(model, loss_fn, Xv, Yv),
           result, steps, eval_every, digits=4)
    return model, result


def lm_bits_per_char(model, loss_fn, Xv, Yv):
    """Bits per character of a StreamModel LM on the streams Xv -> Yv, from a zero state."""
    saved = model._state
    model.reset_state()
    with np.errstate(over="ignore", invalid="ignore"):
        nll = loss_fn.forward(model.forward(Xv), Yv)
    model._state = saved
    return tx.bits_per_char(nll) if np.isfinite(nll) else float("inf")


TRAIN = {"adding": train_adding, "reset": train_reset, "lm": train_lm}


# --- reading the study ------------------------------------------------------------------------

def summarize(study, task, label, forget_bias=1.0):
    """The final metric of one configuration over its seeds: n, median, mean, min, max of the
    runs that finished, `diverged` (how many did not), and `values` (per seed, None = diverged).
    The median is the summary to quote: one run that blew up drags the mean anywhere."""
    values = [r["final"] for r in study["runs"] if r["task"] == task and r["variant"] == label
              and r["forget_bias"] == forget_bias]
    done = [v for v in values if v is not None]
    return {"n": len(values), "diverged": len(values) - len(done), "values": values,
            "median": float(np.median(done)) if done else None,
            "mean": float(np.mean(done)) if done else None,
            "min": min(done) if done else None, "max": max(done) if done else None}


def clearly_lower(a, b):
    """Is summary `a` lower (better) than `b` beyond the spread: every seed of a below every
    seed of b? A diverged seed counts as the worst possible value."""
    a_worst = float("inf") if a["diverged"] or a["max"] is None else a["max"]
    b_best = float("inf") if b["min"] is None else b["min"]
    return a_worst < b_best


def _final(study, task, label, seed, forget_bias=1.0):
    """The final metric of one run (inf if it diverged, None if there is no such run)."""
    for r in study["runs"]:
        if (r["task"], r["variant"], r["seed"], r["forget_bias"]) == (task, label, seed, forget_bias):
            return float("inf") if r["final"] is None else r["final"]
    return None


def sign_test(study, label, forget_bias=1.0, base=("vanilla", 1.0), tasks=TASKS):
    """Is `label` worse than the base cell across tasks and seeds? Seed s of the variant is paired
    with seed s of the base (the same seed draws the same training data), and each pair counts as
    worse or not. If the two cells were alike, each pair would be worse with chance 1/2, so the
    chance of k or more worse pairs out of n is the binomial tail `p`; (1/2)^n is the chance that
    all n are. Also counts the tasks on which the variant's median is worse: all of them has
    chance (1/2)^len(tasks). A diverged run counts as the worst possible value.
    Returns {"worse_by_task": task -> (worse pairs, pairs), "worse": k, "n": n, "p": tail,
    "all_chance": (1/2)^n, "tasks_worse": how many tasks by median, "tasks_chance": (1/2)^tasks}."""
    import math
    by_task, tasks_worse = {}, 0
    for task in tasks:
        pairs = []
        for seed in sorted({r["seed"] for r in study["runs"] if r["task"] == task}):
            a, b = _final(study, task, label, seed, forget_bias), _final(study, task, base[0], seed, base[1])
            if a is not None and b is not None:
                pairs.append((a, b))
        by_task[task] = (sum(a > b for a, b in pairs), len(pairs))
        if pairs and np.median([a for a, _ in pairs]) > np.median([b for _, b in pairs]):
            tasks_worse += 1
    k, n = sum(w for w, _ in by_task.values()), sum(m for _, m in by_task.values())
    p = sum(math.comb(n, j) for j in range(k, n + 1)) / 2 ** n
    return {"worse_by_task": by_task, "worse": k, "n": n, "p": p, "all_chance": 0.5 ** n,
            "tasks_worse": tasks_worse, "tasks_chance": 0.5 ** len(tasks)}


def flagged_worse(test, level=0.01):
    """The sign test's verdict: worse across the tasks when the chance of so many worse pairs,
    were the cells alike, is below `level`."""
    return test["p"] < level
