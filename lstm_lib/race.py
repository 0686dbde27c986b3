"""Chapter 12's race: forecasters trained with one recipe, scored on a held-out stretch.

On one real series (lstm_lib.series), one-step-ahead forecasting from a window of past values
(lstm_lib.forecasting): every model of MODELS (lstm_lib.forecasters) on every seed, the
number of epochs chosen on a validation stretch, scored by its test MSE on the held-out final
stretch, on the scaled data and in the series' own units, as mean ± std over seeds.
`run_race` is the one path through it: `python -m lstm_lib compare` and chapter 12 both call
it. `separated(race, a, b)` says whether two models' means differ by more than their
seed-to-seed spread.
"""
import functools
import time
from dataclasses import dataclass, field

import numpy as np

from . import forecasters as F
from .forecasting import prepare
from .interop import require_torch
from .series import InputError


@dataclass
class Recipe:
    """The shared training recipe of the neural models (Adam, mean squared error); `epochs` is
    the most a model trains: the epoch with the lowest validation MSE is kept."""

    hidden: int = 32
    lr: float = 1e-2
    batch_size: int = 64
    epochs: int = 150


@dataclass(frozen=True)
class Model:
    """One entry of the race: its row in the table and how it runs (see lstm_lib.forecasters)."""

    name: str
    run: object  # (data, seed, recipe) -> forecasters.Fitted
    baseline: bool = False  # deterministic: run once, not once per seed
    needs_torch: bool = False


MODELS = {
    "naive": Model("naive (last value)", F.run_naive, baseline=True),
    "linear": Model("linear AR (least squares)", F.run_linear, baseline=True),
    "lstm_lib": Model("lstm_lib LSTM, its own init", F.run_lstm_lib),
    "lstm_lib_torch_init": Model("lstm_lib LSTM, PyTorch's init", F.run_lstm_lib_torch_init,
                                 needs_torch=True),
    "torch_lstm_one_bias": Model("PyTorch LSTM, one bias per gate (as lstm_lib)",
                                 functools.partial(F.run_torch, "lstm_one_bias"), needs_torch=True),
    "torch_lstm": Model("PyTorch LSTM, two biases per gate (its default)",
                        functools.partial(F.run_torch, "lstm"), needs_torch=True),
    "torch_gru": Model("PyTorch GRU", functools.partial(F.run_torch, "gru"), needs_torch=True),
    "torch_rnn": Model("PyTorch RNN", functools.partial(F.run_torch, "rnn"), needs_torch=True),
    "torch_cnn": Model("PyTorch 1-D CNN", functools.partial(F.run_torch, "cnn"), needs_torch=True),
}
BASELINES = tuple(k for k, m in MODELS.items() if m.baseline)


def check_models(models):
    """The model keys as a tuple; InputError for none, for an unknown key, or for a torch model
    when torch is not installed."""
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if not models or unknown:
        raise InputError(f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(MODELS)}")
    if any(MODELS[m].needs_torch for m in models):
        try:
            require_torch()
        except ImportError as exc:
            without = ",".join(k for k, m in MODELS.items() if not m.needs_torch)
            raise InputError(f"{exc}; without it, run only --models {without}") from None
    return models


@dataclass
class ModelResult:
    key: str
    name: str
    mse: list = field(default_factory=list)  # scaled, per seed
    mse_units: list = field(default_factory=list)
    epochs: list = field(default_factory=list)  # per seed, the epoch kept (None: a baseline)
    val_curves: list = field(default_factory=list)  # per seed, validation MSE after each epoch
    params: int = 0
    pred: np.ndarray = None  # predictions of the first seed, in the series' units



@dataclass
class RaceResult:
    data: object  # the forecasting.ForecastData every model saw
    recipe: Recipe
    seeds: list
    results: list  # ModelResult, in the order of the models

    def summary(self):
        """One sentence: the series, the split, what the models see, the recipe."""
        d, s, r = self.data, self.data.series, self.recipe
        val = (f"validation stretch: the {d.n_val} values before it, to choose each run's epoch; "
               if d.n_val else "no validation stretch: every run trains all epochs; ")
        return (f"Series {s.name}, window {d.window}, test stretch: the last {d.n_test} values "
                f"({s.labels[d.test_start]} to {s.labels[-1]}); {val}models see "
                f"{'changes' if d.difference else 'values'} scaled with the training part's mean "
                f"and std; Adam (lr {r.lr:g}, batch {r.batch_size}) for at most {r.epochs} "
                f"epoch{'s' * (r.epochs != 1)}, hidden {r.hidden}.")


def mse(pred, target):
    return float(np.mean((np.asarray(pred, np.float64) - np.asarray(target, np.float64)) ** 2))


def run_race(series, window=24, test_fraction=0.2, difference=True, models=tuple(MODELS),
             seeds=(0, 1, 2), recipe=None, val_fraction=0.15, log=None):
    """The race on a gap-free Series: split, scale and window it (forecasting.prepare), then
    every model in `models` on every seed (the baselines once: they have no randomness).
    `log(text)` is called before and after each run (progress). Returns a RaceResult."""
    models = check_models(models)
    data = prepare(series, window=window, test_fraction=test_fraction, difference=difference,
                   val_fraction=val_fraction)
    recipe = recipe or Recipe()
    if log:
        log(data.describe())
    runs = [(m, s) for m in models for s in (seeds[:1] if MODELS[m].baseline else seeds)]
    results = {m: ModelResult(m, MODELS[m].name) for m in models}
    y = data.y_test.astype(np.float64)
    for k, (m, s) in enumerate(runs, 1):
        tag = f"[{k:2d}/{len(runs)}] {MODELS[m].name:<26}" + ("" if MODELS[m].baseline else f" seed {s}")
        if log:
            log(f"{tag} ...")
        start = time.perf_counter()
        fitted = MODELS[m].run(data, s, recipe)  # pred: (n_test, 1), scaled
        r = results[m]
        r.mse.append(mse(fitted.pred, y))
        r.mse_units.append(mse(data.to_units(fitted.pred[:, 0]), data.y_test_units))
        r.epochs.append(fitted.epoch)
        r.val_curves.append(fitted.val_curve)
        r.params = fitted.params
        if r.pred is None:
            r.pred = data.to_units(fitted.pred[:, 0])
        if log:
            kept = "" if fitted.epoch is None else f", epoch {fitted.epoch} kept"
            log(f"{tag} done in {time.perf_counter() - start:.1f} s{kept}, test MSE {r.mse[-1]:.4g}")
    return RaceResult(data, recipe, list(seeds), [results[m] for m in models])


def _mean_std(xs, digits=3):
    xs = np.asarray(xs, np.float64)
    if len(xs) == 1:
        return f"{xs[0]:.{digits}g}"
    return f"{xs.mean():.{digits}g} ± {xs.std():.2g}"


def _epochs(epochs):
    if epochs[0] is None:
        return "-"
    return f"{np.mean(epochs):.0f} ({min(epochs)}-{max(epochs)})" if len(epochs) > 1 else str(epochs[0])


def results_table(race):
    """The Markdown table of a RaceResult or of its results_dict (e.g. a stored results.json):
    one row per model, baselines included."""
    d = race if isinstance(race, dict) else results_dict(race)
    unit = d["unit"] or "units"
    n = len(d["seeds"])
    lines = [(f"| model | trained parameters | test MSE, scaled (mean ± std over {n} "
              f"seed{'s' * (n != 1)}) | test MSE, ({unit})² | epoch kept (mean, min-max) |"),
             "|---|---|---|---|---|"]
    for r in d["results"]:
        mark = " (one run: deterministic)" if r["key"] in BASELINES and n > 1 else ""
        lines.append(f"| {r['name']} | {r['params']:,} | {_mean_std(r['mse'])}{mark} | "
                     f"{_mean_std(r['mse_units'])} | {_epochs(r['epochs'])} |")
    return "\n".join(lines)


def scores(race):
    """dict model key -> (mean, std over seeds) of the test MSE in the series' units, of a
    RaceResult or its results_dict."""
    d = race if isinstance(race, dict) else results_dict(race)
    return {r["key"]: (float(np.mean(r["mse_units"])), float(np.std(r["mse_units"])))
            for r in d["results"]}


def separated(race, a, b):
    """True if the mean test MSEs of models a and b differ by more than the sum of their
    standard deviations over seeds: only then does the race tell them apart."""
    s = scores(race)
    (ma, sa), (mb, sb) = s[a], s[b]
    return abs(ma - mb) > sa + sb


def results_dict(race):
    """Everything measured, as plain JSON-ready data."""
    d = race.data
    return {
        "series": d.series.name, "unit": d.series.unit, "window": d.window, "n_test": d.n_test,
        "n_val": d.n_val, "difference": d.difference,
        "scaler": {"mean": d.scaler.mean, "std": d.scaler.std},
        "recipe": vars(race.recipe), "seeds": race.seeds,
        "results": [{"key": r.key, "name": r.name, "mse": r.mse, "mse_units": r.mse_units,
                     "epochs": r.epochs, "val_curves": r.val_curves, "params": r.params}
                    for r in race.results],
    }
