"""The chapter-12 training race, headless: `python -m lstm_lib compare`.

On one real series, one-step-ahead forecasting from a window of past values:
  naive last value, a linear autoregressive model (least squares), the lstm_lib LSTM, and
  PyTorch's LSTM, GRU, RNN and a small 1-D CNN,
each neural model trained with the same recipe (Adam, mean squared error, the same
minibatches in the same order for a given seed), scored by its test MSE on the held-out final
stretch of the series, on the scaled data and in the series' own units, as mean +- std over
seeds, with its training time.

Also here: the parity checks of chapter 12 (lstm_lib's LSTM against torch.nn.LSTM, same
weights: outputs, gradients, and a whole training run step by step).

Every problem with the input raises InputError with a message for the user; the command
prints it and exits with status 2, never with a traceback.
"""
import csv
import math
import pathlib
import time
from dataclasses import dataclass, field

import numpy as np

from . import datasets
from .base import Sequential
from .layers import LastStep, Linear
from .losses import MSELoss
from .lstm import LSTM
from .optim import SGD, Adam, Momentum
from .seeding import seed as seed_everything
from .training import fit

UNITS = {"co2_monthly": "ppm", "co2_weekly": "ppm", "sunspots": "sunspot number"}
MISSING = {"", "nan", "na", "n/a", "null", "none", "-", "?"}
MIN_TRAIN_WINDOWS = 10
MIN_TEST = 3

MODELS = {  # key -> row name in the table
    "naive": "naive (last value)",
    "linear": "linear AR (least squares)",
    "lstm_lib": "lstm_lib LSTM",
    "lstm_lib_torch_init": "lstm_lib LSTM, PyTorch's init",
    "torch_lstm": "PyTorch LSTM",
    "torch_gru": "PyTorch GRU",
    "torch_rnn": "PyTorch RNN",
    "torch_cnn": "PyTorch 1-D CNN",
}
BASELINES = ("naive", "linear")


class InputError(Exception):
    """A problem with the user's input: the message says what is wrong and what to do."""


# --- data ---------------------------------------------------------------------------------

@dataclass
class Series:
    """A named 1-D series: labels (dates, years or row numbers, as strings) and float64 values."""

    name: str
    labels: list
    values: np.ndarray
    unit: str
    notes: list = field(default_factory=list)


def load_bundled(name):
    """A series shipped with lstm_lib (lstm_lib.datasets.load_series)."""
    if name not in datasets.SERIES:
        raise InputError(f"unknown series {name!r}; choose one of {', '.join(sorted(datasets.SERIES))}")
    labels, values = datasets.load_series(name)
    return Series(name, list(labels), np.asarray(values, np.float64), UNITS.get(name, ""))


def read_csv_series(path, column, date_column=None):
    """Read one numeric column of a CSV file (with a header row) as a Series.

    Empty cells and NaN/NA/null are missing values (NaN, reported later as gaps); any other
    text that is not a number is an error naming the rows. Labels come from `date_column`,
    else from the first column when that is not the value column, else they are row numbers.
    """
    p = pathlib.Path(path)
    if not p.exists():
        raise InputError(f"file not found: {path}")
    if p.is_dir():
        raise InputError(f"{path} is a folder, not a CSV file")
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a text (UTF-8) CSV file") from None
    except csv.Error as exc:
        raise InputError(f"{path} is not a readable CSV file: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    data = rows[1:]
    if not data:
        raise InputError(f"{path} has a header row but no data rows")
    if column is None:
        raise InputError(f"name the column to forecast with --column; {path} has the columns: "
                         f"{', '.join(header)}")
    if column not in header:
        raise InputError(f"{path} has no column {column!r}; its columns are: {', '.join(header)}")
    col = header.index(column)
    if date_column is not None and date_column not in header:
        raise InputError(f"{path} has no date column {date_column!r}; its columns are: "
                         f"{', '.join(header)}")
    values, bad = [], []
    for i, row in enumerate(data):
        cell = row[col].strip() if col < len(row) else ""
        if cell.lower() in MISSING:
            values.append(np.nan)
            continue
        try:
            v = float(cell)
        except ValueError:
            v = None
        if v is None or not math.isfinite(v):
            bad.append((i + 2, cell))  # line number in the file (header is line 1)
            values.append(np.nan)
        else:
            values.append(v)
    if bad:
        examples = ", ".join(f"line {line}: {cell!r}" for line, cell in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InputError(f"column {column!r} of {path} is not numeric: {len(bad)} of {len(data)} "
                         f"values are not numbers ({examples}{more})")
    if date_column is not None:
        dcol = header.index(date_column)
    elif header[0] != column:
        dcol = 0
    else:
        dcol = None
    if dcol is None:
        labels = [f"row {i + 1}" for i in range(len(data))]
    else:
        labels = [row[dcol].strip() if dcol < len(row) else "" for row in data]
    return Series(p.name, labels, np.array(values, np.float64), column)


def find_gaps(values):
    """Runs of NaN as (start, stop) index pairs (stop exclusive)."""
    missing = np.isnan(np.asarray(values, np.float64))
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def describe_gaps(series, limit=5):
    """'7 missing values in 3 gaps: rows 12-14 (1958-06 to 1958-08), ...' (rows count from 1)."""
    gaps = find_gaps(series.values)
    count = sum(b - a for a, b in gaps)
    parts = []
    for a, b in gaps[:limit]:
        if b - a == 1:
            parts.append(f"row {a + 1} ({series.labels[a]})")
        else:
            parts.append(f"rows {a + 1}-{b} ({series.labels[a]} to {series.labels[b - 1]})")
    more = f", and {len(gaps) - limit} more gaps" if len(gaps) > limit else ""
    return (f"{count} missing value{'s' * (count != 1)} in {len(gaps)} gap{'s' * (len(gaps) != 1)}: "
            + ", ".join(parts) + more)


def handle_gaps(series, interpolate=False):
    """Return the series without NaN: an InputError describing the gaps, or (interpolate=True)
    the gaps filled by linear interpolation between their neighbours; missing values at the
    very start or end cannot be interpolated and are dropped (noted in series.notes)."""
    v = series.values
    if not np.isnan(v).any():
        return series
    if np.isnan(v).all():
        raise InputError(f"{series.name}: every value is missing")
    report = describe_gaps(series)
    if not interpolate:
        raise InputError(f"{series.name} has {report}. Fill them by linear interpolation with "
                         f"--interpolate, or fix the data.")
    ok = np.flatnonzero(~np.isnan(v))
    first, last = ok[0], ok[-1]
    labels = series.labels[first:last + 1]
    v = v[first:last + 1]
    idx = np.arange(len(v))
    filled = np.interp(idx, idx[~np.isnan(v)], v[~np.isnan(v)])
    notes = series.notes + [f"interpolated {report}"]
    if first > 0 or last < len(series.values) - 1:
        notes.append(f"dropped {first} missing value(s) at the start and "
                     f"{len(series.values) - 1 - last} at the end (nothing to interpolate from)")
    return Series(series.name, labels, filled, series.unit, notes)


@dataclass
class RaceData:
    """Windows of the scaled series, split in time.

    The last `n_test` values of the series are the test stretch: every window whose target lies
    in it is a test sample (its inputs may reach back into the training part, as a forecaster's
    would). With `difference=True` the models see and predict the month-to-month changes
    v[t] - v[t-1] instead of the values (a trend then does not push the test stretch outside
    the range seen in training); predictions are turned back into values by adding the last
    known value. The scaler is fitted on the training part only. X: (n, window, 1),
    y: (n, 1), float32, scaled; `target_index[k]` is the position in the series of y[k]."""

    series: Series
    window: int
    n_test: int
    difference: bool
    scaler: datasets.StandardScaler
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_index: np.ndarray

    @property
    def n_train_values(self):
        return len(self.series.values) - self.n_test

    @property
    def y_test_units(self):
        return self.series.values[self.test_index]

    def to_units(self, z):
        """Scaled predictions of the test windows (n_test,) or (n_test, 1) -> series values."""
        z = np.asarray(z, np.float64)
        u = self.scaler.inverse(z)
        if self.difference:
            last = self.series.values[self.test_index - 1]
            u = u + (last[:, None] if u.ndim == 2 else last)
        return u

    def scaled_input_units(self, X):
        """Windows back in the series' units (what an unscaled model would see)."""
        return self.scaler.inverse(np.asarray(X, np.float64)).astype(np.float32)

    def describe(self):
        s, lab = self.series, self.series.labels
        nt = self.n_train_values
        what = "changes v[t] - v[t-1]" if self.difference else "values"
        return (f"series {s.name}: {len(s.values)} values ({lab[0]} to {lab[-1]}). "
                f"Training part: the first {nt} values ({lab[0]} to {lab[nt - 1]}), "
                f"{len(self.X_train)} windows. Test stretch: the last {self.n_test} values "
                f"({lab[nt]} to {lab[-1]}), {len(self.X_test)} windows. "
                f"Models see and predict the {what}, scaled as (x - {self.scaler.mean:.4g}) / "
                f"{self.scaler.std:.4g} (mean and std of the training part). "
                f"Window: {self.window} past {what} -> the next one.")


def prepare(series, window=24, test_fraction=0.2, difference=True):
    """Split, scale and window a gap-free series (see RaceData)."""
    n = len(series.values)
    if window < 1:
        raise InputError(f"--window must be at least 1, got {window}")
    if not 0 < test_fraction < 1:
        raise InputError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    n_test = round(test_fraction * n)
    n_train = n - n_test
    lag = 1 if difference else 0
    need = window + lag + MIN_TRAIN_WINDOWS
    if n_test < MIN_TEST or n_train < need:
        max_window = n_train - lag - MIN_TRAIN_WINDOWS
        hint = (f"use --window {max_window} or less, or a longer series" if max_window >= 1
                else "use a longer series")
        raise InputError(f"{series.name} is too short: {n} values, a test stretch of {n_test} "
                         f"(--test-fraction {test_fraction:g}; at least {MIN_TEST} needed) and "
                         f"window {window} leave {n_train} training values, but the training part "
                         f"needs at least {need} (window{' + 1 for differencing' * lag} + "
                         f"{MIN_TRAIN_WINDOWS} windows): {hint}")
    v = np.asarray(series.values, np.float64)
    m = np.diff(v) if difference else v  # m[k] belongs to position k + lag of the series
    scaler = datasets.StandardScaler().fit(m[:n_train - lag])
    z = scaler.transform(m).astype(np.float32)
    X, y = datasets.make_windows(z, window)  # target of row k is z[k + window]
    index = np.arange(len(y)) + window + lag  # position of each target in the series
    test = index >= n_train
    return RaceData(series, window, n_test, difference, scaler, X[~test], y[~test], X[test],
                    y[test], index[test])


# --- models -------------------------------------------------------------------------------

@dataclass
class Recipe:
    """The shared training recipe of the neural models."""

    hidden: int = 32
    lr: float = 1e-2
    batch_size: int = 64
    epochs: int = 60


def _torch():
    try:
        import torch
    except ImportError:
        raise InputError("PyTorch is not installed (pip install torch); without it, run only "
                         "--models naive,linear,lstm_lib") from None
    return torch


def predict_naive(data):
    """The last known value again (scaled): with differencing, a change of zero."""
    if data.difference:
        return np.full((len(data.X_test), 1), data.scaler.transform(0.0))
    return data.X_test[:, -1, :].astype(np.float64)


def fit_linear(data):
    """Least-squares autoregression: y = X w + b on the window's values; returns (w, b)."""
    A = np.concatenate([data.X_train[:, :, 0], np.ones((len(data.X_train), 1))], 1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, data.y_train[:, 0].astype(np.float64), rcond=None)
    return coef[:-1], coef[-1]


def predict_linear(data):
    w, b = fit_linear(data)
    return (data.X_test[:, :, 0].astype(np.float64) @ w + b)[:, None]


def lstm_lib_model(hidden, dtype=np.float32):
    """LSTM(1, hidden) -> last time step -> Linear(hidden, 1)."""
    return Sequential(LSTM(1, hidden, dtype=dtype), LastStep(), Linear(hidden, 1, dtype=dtype))


def train_lstm_lib(data, seed, recipe, progress=False, torch_init=False):
    """Train the lstm_lib model with L.fit (Adam, mean MSE); returns (model, seconds).
    torch_init=True starts from the weights PyTorch's model gets for this seed (copied with
    interop.from_torch) instead of lstm_lib's own initialisation (forget-gate bias 1.0,
    orthogonal recurrent weights)."""
    seed_everything(seed)
    if torch_init:
        from .interop import from_torch

        tm = torch_model("lstm", recipe.hidden, data.window)
        head = Linear(recipe.hidden, 1)
        head.params["W"][...] = tm.head.weight.detach().numpy().T
        head.params["b"][...] = tm.head.bias.detach().numpy()
        model = Sequential(from_torch(tm.rnn), LastStep(), head)
    else:
        model = lstm_lib_model(recipe.hidden)
    start = time.perf_counter()
    fit(model, MSELoss(), Adam(model, recipe.lr), data.X_train, data.y_train, epochs=recipe.epochs,
        batch_size=recipe.batch_size, progress=progress, rng=np.random.default_rng(seed))
    return model, time.perf_counter() - start


def torch_model(kind, hidden, window):
    """'lstm', 'gru', 'rnn': that recurrent layer -> last step -> Linear; 'cnn': two Conv1d
    (kernel 3, `hidden // 2` channels, ReLU) -> flatten -> Linear."""
    torch = _torch()
    nn = torch.nn

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
            self.rnn = cls(1, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            ch = max(hidden // 2, 1)
            self.body = nn.Sequential(nn.Conv1d(1, ch, 3, padding=1), nn.ReLU(),
                                      nn.Conv1d(ch, ch, 3, padding=1), nn.ReLU(), nn.Flatten())
            self.head = nn.Linear(ch * window, 1)

        def forward(self, x):
            return self.head(self.body(x.transpose(1, 2)))

    return CNN() if kind == "cnn" else Recurrent()


def train_torch(kind, data, seed, recipe):
    """Train a torch model with the same recipe and the same batches as train_lstm_lib."""
    torch = _torch()
    seed_everything(seed)
    model = torch_model(kind, recipe.hidden, data.window)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    X, Y = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    rng = np.random.default_rng(seed)
    n = len(X)
    start = time.perf_counter()
    for _ in range(recipe.epochs):
        order = torch.from_numpy(rng.permutation(n))
        for s in range(0, n, recipe.batch_size):
            idx = order[s:s + recipe.batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
    return model, time.perf_counter() - start


def torch_predict(model, X):
    torch = _torch()
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy().astype(np.float64)


def count_params(model):
    if hasattr(model, "num_params"):
        return int(model.num_params())
    if hasattr(model, "params"):
        return int(sum(p.size for p in model.params.values()))
    return int(sum(p.numel() for p in model.parameters()))


def run_model(key, data, seed, recipe):
    """Train (if needed) and predict the test windows: (pred (n_test, 1) scaled, seconds, params)."""
    if key == "naive":
        start = time.perf_counter()
        pred = predict_naive(data)
        return pred, time.perf_counter() - start, 0
    if key == "linear":
        start = time.perf_counter()
        pred = predict_linear(data)
        return pred, time.perf_counter() - start, data.window + 1
    if key in ("lstm_lib", "lstm_lib_torch_init"):
        model, secs = train_lstm_lib(data, seed, recipe, torch_init=key == "lstm_lib_torch_init")
        model.eval()
        return model.forward(data.X_test).astype(np.float64), secs, count_params(model)
    if key.startswith("torch_"):
        model, secs = train_torch(key[len("torch_"):], data, seed, recipe)
        return torch_predict(model, data.X_test), secs, count_params(model)
    raise InputError(f"unknown model {key!r}; choose from {', '.join(MODELS)}")


@dataclass
class ModelResult:
    key: str
    name: str
    mse: list = field(default_factory=list)  # scaled, per seed
    mse_units: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    params: int = 0
    pred: np.ndarray = None  # predictions of the first seed, in the series' units


@dataclass
class RaceResult:
    data: RaceData
    recipe: Recipe
    seeds: list
    results: list


def mse(pred, target):
    return float(np.mean((np.asarray(pred, np.float64) - np.asarray(target, np.float64)) ** 2))


def run_race(data, models=tuple(MODELS), seeds=(0, 1, 2), recipe=None, log=None):
    """Every model in `models` on every seed (the baselines once: they have no randomness).
    `log(text)` is called before and after each run (progress)."""
    recipe = recipe or Recipe()
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise InputError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if any(m.startswith("torch_") or m == "lstm_lib_torch_init" for m in models):
        _torch()
    runs = [(m, s) for m in models for s in (seeds[:1] if m in BASELINES else seeds)]
    results = {m: ModelResult(m, MODELS[m]) for m in models}
    y = data.y_test.astype(np.float64)
    for k, (m, s) in enumerate(runs, 1):
        tag = f"[{k:2d}/{len(runs)}] {MODELS[m]:<26}" + ("" if m in BASELINES else f" seed {s}")
        if log:
            log(f"{tag} ...")
        pred, secs, params = run_model(m, data, s, recipe)
        r = results[m]
        r.mse.append(mse(pred, y))
        r.mse_units.append(mse(data.to_units(pred[:, 0]), data.y_test_units))
        r.seconds.append(secs)
        r.params = params
        if r.pred is None:
            r.pred = data.to_units(pred[:, 0])
        if log:
            log(f"{tag} done in {secs:.2f} s, test MSE {r.mse[-1]:.4g}")
    return RaceResult(data, recipe, list(seeds), [results[m] for m in models])


def _mean_std(xs, digits=3):
    xs = np.asarray(xs, np.float64)
    if len(xs) == 1:
        return f"{xs[0]:.{digits}g}"
    return f"{xs.mean():.{digits}g} ± {xs.std():.2g}"


def results_table(race):
    """The Markdown table: one row per model, baselines included."""
    unit = race.data.series.unit or "units"
    n = len(race.seeds)
    lines = [(f"| model | test MSE, scaled (mean ± std over {n} seed{'s' * (n != 1)}) | "
              f"test MSE, ({unit})² | train time (s) | parameters |"),
             "|---|---|---|---|---|"]
    for r in race.results:
        mark = " (one run: deterministic)" if r.key in BASELINES and n > 1 else ""
        lines.append(f"| {r.name} | {_mean_std(r.mse)}{mark} | {_mean_std(r.mse_units)} | "
                     f"{np.mean(r.seconds):.2f} | {r.params:,} |")
    return "\n".join(lines)


def results_dict(race):
    """Everything measured, as plain JSON-ready data."""
    return {
        "series": race.data.series.name, "unit": race.data.series.unit,
        "window": race.data.window, "n_test": race.data.n_test,
        "difference": race.data.difference,
        "scaler": {"mean": race.data.scaler.mean, "std": race.data.scaler.std},
        "recipe": vars(race.recipe), "seeds": race.seeds,
        "results": [{"key": r.key, "name": r.name, "mse": r.mse, "mse_units": r.mse_units,
                     "seconds": r.seconds, "params": r.params} for r in race.results],
    }


# --- parity with torch.nn.LSTM ------------------------------------------------------------

def parity_forward_backward(batch=4, time_steps=7, input_size=3, hidden=5, seed=0):
    """Copy a float64 torch.nn.LSTM into lstm_lib with interop.from_torch, run both on the
    same input and initial state, backpropagate the same upstream gradient, and return the
    largest absolute difference of every output and gradient (dict name -> float)."""
    torch = _torch()
    from .interop import from_torch, grads_from_torch

    seed_everything(seed)
    module = torch.nn.LSTM(input_size, hidden, batch_first=True, dtype=torch.float64)
    layer = from_torch(module)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, time_steps, input_size))
    h0, c0 = rng.standard_normal((2, batch, hidden))
    dh = rng.standard_normal((batch, time_steps, hidden))  # upstream gradient, dL/dh_t

    out = layer.forward(x, h0, c0)
    dx = layer.backward(dh)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    out_t, (hT, cT) = module(xt, (h0t, c0t))
    (out_t * torch.from_numpy(dh)).sum().backward()
    tg = grads_from_torch(module)

    def diff(a, b):
        return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))

    return {
        "output h_t": diff(out, out_t.detach().numpy()),
        "final h_T": diff(layer.state[0], hT.detach().numpy()[0]),
        "final c_T": diff(layer.state[1], cT.detach().numpy()[0]),
        "dx": diff(dx, xt.grad.numpy()),
        "dW_x": diff(layer.grads["W_x"], tg["W_x"]),
        "dW_h": diff(layer.grads["W_h"], tg["W_h"]),
        "db": diff(layer.grads["b"], tg["b"]),
        "dh0": diff(layer.dstate0[0], h0t.grad.numpy()[0]),
        "dc0": diff(layer.dstate0[1], c0t.grad.numpy()[0]),
    }


def twin_models(hidden, seed=0):
    """A float64 torch model (LSTM(1, hidden) -> last step -> Linear) and its lstm_lib twin
    with the same weights: (torch_model, lstm_lib_model). The torch model's bias_hh is folded
    into bias_ih and frozen at zero, so both have one trainable bias per gate."""
    torch = _torch()
    from .interop import from_torch

    seed_everything(seed)
    tm = torch_model("lstm", hidden, window=None).double()
    # torch.nn.LSTM has two bias vectors that only ever appear as their sum; trained both, the
    # sum moves twice per step. lstm_lib has one: fold bias_hh into bias_ih and freeze it at 0.
    with torch.no_grad():
        tm.rnn.bias_ih_l0 += tm.rnn.bias_hh_l0
        tm.rnn.bias_hh_l0.zero_()
    tm.rnn.bias_hh_l0.requires_grad_(False)
    head = Linear(hidden, 1, dtype=np.float64)
    head.params["W"][...] = tm.head.weight.detach().numpy().T
    head.params["b"][...] = tm.head.bias.detach().numpy()
    return tm, Sequential(from_torch(tm.rnn), LastStep(), head)


def parity_training(X, Y, hidden=8, optimizer="adam", lr=1e-2, epochs=3, batch_size=32, seed=0):
    """Train twin float64 models (same weights) with the same optimiser on the same minibatches
    in the same order. Returns (losses_lstm_lib, losses_torch, max parameter difference at the end)."""
    torch = _torch()
    tm, nm = twin_models(hidden, seed)
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    opts = {"sgd": (SGD, lambda p: torch.optim.SGD(p, lr=lr)),
            "momentum": (Momentum, lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9)),
            "adam": (Adam, lambda p: torch.optim.Adam(p, lr=lr))}
    if optimizer not in opts:
        raise ValueError(f"optimizer must be one of {sorted(opts)}, got {optimizer!r}")
    trainable = [p for p in tm.parameters() if p.requires_grad]
    n_opt, t_opt = opts[optimizer][0](nm, lr), opts[optimizer][1](trainable)
    loss_fn = MSELoss()
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s:s + batch_size]
            ours.append(loss_fn.forward(nm.forward(X[idx]), Y[idx]))
            nm.backward(loss_fn.backward())
            n_opt.step()
            t_opt.zero_grad()
            loss = torch.nn.functional.mse_loss(tm(torch.from_numpy(X[idx])), torch.from_numpy(Y[idx]))
            loss.backward()
            t_opt.step()
            theirs.append(loss.item())
    rnn = nm.layers[0]
    W_x = tm.rnn.weight_ih_l0.detach().numpy().T
    W_h = tm.rnn.weight_hh_l0.detach().numpy().T
    b = tm.rnn.bias_ih_l0.detach().numpy()
    pdiff = max(float(np.max(np.abs(a - b_))) for a, b_ in
                [(rnn.params["W_x"], W_x), (rnn.params["W_h"], W_h), (rnn.params["b"], b)])
    return np.array(ours), np.array(theirs), pdiff


# --- plots --------------------------------------------------------------------------------

def x_axis(labels):
    """Labels as dates (ISO dates or years) if they all parse, else as numbers, else positions."""
    try:
        return np.array(labels, dtype="datetime64[D]")
    except ValueError:
        pass
    try:
        return np.array([float(x) for x in labels])
    except ValueError:
        return np.arange(len(labels))


def plot_png(race, path=None, context=None, dpi=90):
    """Matplotlib figure: the whole series with the test stretch shaded (top), and the test
    stretch with each model's predictions of the first seed (bottom). Saved to `path` if given."""
    import matplotlib.pyplot as plt

    data = race.data
    s = data.series
    x = x_axis(s.labels)
    nt = data.n_train_values
    unit = s.unit or "value"
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(9, 6.5), gridspec_kw={"height_ratios": [1, 1.6]})
    ax0.plot(x, s.values, color="0.3", lw=0.9)
    ax0.axvspan(x[nt], x[-1], color="tab:orange", alpha=0.15, label="test stretch")
    ax0.set_title(f"{s.name}: training part and test stretch")
    ax0.set_ylabel(unit)
    ax0.legend(loc="upper left")
    start = max(nt - (context if context is not None else data.n_test // 3), 0)
    ax1.plot(x[start:], s.values[start:], color="black", lw=2.2, label="truth")
    for r in race.results:
        ax1.plot(x[nt:], r.pred, lw=1.1, label=r.name, ls="--" if r.key in BASELINES else "-")
    ax1.axvline(x[nt], color="0.5", lw=0.8, ls=":")
    ax1.set_title(f"one-step-ahead predictions on the test stretch (seed {race.seeds[0]})")
    ax1.set_ylabel(unit)
    ax1.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig


def plot_plotly(race):
    """Plotly figure of the same: the whole series and every model's test predictions (zoom in)."""
    import plotly.graph_objects as go

    data = race.data
    s = data.series
    x = x_axis(s.labels)
    nt = data.n_train_values
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=np.round(s.values, 4), name="truth",
                             line={"color": "black", "width": 2}))
    for r in race.results:
        fig.add_trace(go.Scatter(x=x[nt:], y=np.round(r.pred, 4), name=r.name,
                                 line={"width": 1.3, "dash": "dash" if r.key in BASELINES else "solid"}))
    fig.add_vrect(x0=x[nt], x1=x[-1], fillcolor="orange", opacity=0.12, line_width=0)
    fig.update_layout(title=f"{s.name}: one-step-ahead predictions on the test stretch "
                            f"(shaded; seed {race.seeds[0]}). Drag to zoom, double-click to reset.",
                      yaxis_title=s.unit or "value", height=450, margin={"l": 50, "r": 20, "t": 60, "b": 40},
                      xaxis={"range": [x[max(nt - data.n_test // 3, 0)], x[-1]]})
    return fig


def write_plots(race, out, plotlyjs="inline"):
    """predictions.png (matplotlib) and predictions.html (plotly) into folder `out`.
    plotlyjs='inline' embeds plotly.js (a self-contained file of about 5 MB that works offline);
    'cdn' links it from the plotly CDN (a small file that needs a network to view)."""
    import matplotlib.pyplot as plt

    out = pathlib.Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out}: {exc.strerror}") from None
    png, html = out / "predictions.png", out / "predictions.html"
    fig = plot_png(race, png)
    plt.close(fig)
    plot_plotly(race).write_html(html, include_plotlyjs=True if plotlyjs == "inline" else "cdn")
    return png, html
