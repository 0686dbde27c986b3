"""Why a from-scratch model can look "smoother": switch one knob of the training recipe at a time.

Roughness of a predicted series p_1..p_n is the mean absolute second difference,

    roughness(p) = mean_t |p_{t+1} - 2 p_t + p_{t-1}|,

zero for a straight line, large for a curve that zig-zags. Chapter 12 trains the lstm_lib
LSTM with the race's shared recipe (Adam, loss averaged over the batch, scaled input) and then
with one knob switched to what a widely shared from-scratch experiment used: a small learning
rate, the loss summed over the batch, SGD with momentum, the raw (unscaled) scalar input;
and finally all four together. For each: test MSE and roughness of the test predictions.
"""
import contextlib
import io
from dataclasses import dataclass, field

import numpy as np

from ..forecasters import lstm_lib_model
from ..losses import MSELoss
from ..optim import Adam, Momentum
from ..seeding import seed as seed_everything
from ..training import TrainingDiverged, fit


def roughness(pred):
    """Mean absolute second difference of a 1-D series (at least 3 values)."""
    p = np.asarray(pred, np.float64).ravel()
    if p.size < 3:
        raise ValueError(f"roughness needs at least 3 values, got {p.size}")
    return float(np.mean(np.abs(p[2:] - 2 * p[1:-1] + p[:-2])))


@dataclass
class Knobs:
    """One training recipe: optimiser ('adam' or 'momentum'), learning rate, loss reduction
    ('mean' or 'sum') and whether the input is scaled."""

    optimizer: str = "adam"
    lr: float = 1e-2
    reduction: str = "mean"
    scaled_input: bool = True

    def describe(self):
        opt = "Adam" if self.optimizer == "adam" else "SGD + momentum 0.9"
        red = "averaged" if self.reduction == "mean" else "summed"
        return (f"{opt}, lr {self.lr:g}, loss {red} over the batch, "
                f"{'scaled' if self.scaled_input else 'raw'} input")


def variants(base_lr=1e-2, small_lr=5e-4):
    """The recipes of the study: the shared one, each knob switched alone, all four, and
    momentum with summed gradients (summing matters only without Adam)."""
    return {
        "shared recipe": Knobs(lr=base_lr),
        "small learning rate": Knobs(lr=small_lr),
        "summed gradients": Knobs(lr=base_lr, reduction="sum"),
        "momentum SGD": Knobs(lr=base_lr, optimizer="momentum"),
        "unscaled input": Knobs(lr=base_lr, scaled_input=False),
        "all four": Knobs(lr=small_lr, optimizer="momentum", reduction="sum", scaled_input=False),
        "momentum SGD, summed": Knobs(lr=base_lr, optimizer="momentum", reduction="sum"),
    }


def train_variant(data, knobs, seed=0, hidden=32, epochs=60, batch_size=64):
    """Train lstm_lib's LSTM -> last step -> Linear (the race's model, forecasters.lstm_lib_model)
    on `data` (a forecasting.ForecastData) with `knobs`.
    The target is always the scaled one (so test MSEs compare); only the input may be raw.
    Returns (test predictions in the series' units, None or the message if training diverged)."""
    seed_everything(seed)
    model = lstm_lib_model(hidden)
    opt = Adam(model, knobs.lr) if knobs.optimizer == "adam" else Momentum(model, knobs.lr, 0.9)
    X_train, X_test = data.X_train, data.X_test
    if not knobs.scaled_input:
        X_train, X_test = data.scaled_input_units(X_train), data.scaled_input_units(X_test)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # fit prints the divergence message
            fit(model, MSELoss(knobs.reduction), opt, X_train, data.y_train, epochs=epochs,
                batch_size=batch_size, progress=False, rng=np.random.default_rng(seed),
                on_divergence="raise")
        diverged = None
    except TrainingDiverged as exc:
        diverged = str(exc)
    model.eval()
    return data.to_units(model.forward(X_test)[:, 0]), diverged


@dataclass
class StudyRow:
    name: str
    knobs: Knobs
    mse: list = field(default_factory=list)  # in the series' units squared, per seed (NaN: diverged)
    rough: list = field(default_factory=list)  # in the series' units, per seed (NaN: diverged)
    diverged: list = field(default_factory=list)
    pred: np.ndarray = None  # first seed that did not diverge


def smoother_study(data, seeds=(0, 1, 2), hidden=32, epochs=60, batch_size=64, recipes=None, log=None):
    """Every recipe on every seed; returns a list of StudyRow."""
    recipes = recipes or variants()
    truth = data.y_test_units
    rows = []
    for name, knobs in recipes.items():
        row = StudyRow(name, knobs)
        for s in seeds:
            pred, diverged = train_variant(data, knobs, s, hidden, epochs, batch_size)
            row.diverged.append(diverged is not None)
            row.mse.append(np.nan if diverged else float(np.mean((pred - truth) ** 2)))
            row.rough.append(np.nan if diverged else roughness(pred))
            if row.pred is None and not diverged:
                row.pred = pred
        if log:
            log(f"{name}: test MSE {np.nanmean(row.mse):.4g}, roughness {np.nanmean(row.rough):.4g}, "
                f"diverged in {sum(row.diverged)} of {len(seeds)} runs")
        rows.append(row)
    return rows


def study_table(rows, truth, unit="units"):
    """Markdown table: recipe, what changed, test MSE and roughness (mean ± std over the seeds
    whose training did not diverge)."""
    n = len(rows[0].mse)

    def ms(xs):
        xs = np.asarray(xs)
        xs = xs[np.isfinite(xs)]
        if len(xs) == 0:
            return "diverged"
        return f"{xs.mean():.4g} ± {xs.std():.2g}" if len(xs) > 1 else f"{xs[0]:.4g}"

    lines = [f"| recipe | what it is | test MSE ({unit})² | roughness ({unit}) |",
             "|---|---|---|---|"]
    for r in rows:
        flag = f" (diverged in {sum(r.diverged)} of {n} runs, left out)" if any(r.diverged) else ""
        lines.append(f"| {r.name} | {r.knobs.describe()} | {ms(r.mse)}{flag} | {ms(r.rough)} |")
    lines.append(f"| the truth itself | | 0 | {roughness(truth):.4g} |")
    return "\n".join(lines)


def plot_study(rows, data, dpi=90):
    """Left: the test stretch with each recipe's predictions (first seed). Right: test MSE
    against roughness, one point per recipe and seed, the truth's roughness as a line."""
    import matplotlib.pyplot as plt

    from ..series import x_axis

    x = x_axis(data.series.labels)[data.test_index]
    truth = data.y_test_units
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.7, 1]})
    ax0.plot(x, truth, color="black", lw=2.4, label="truth")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"] * 2
    for r, c in zip(rows, colors):
        if r.pred is not None:
            ax0.plot(x, r.pred, lw=1.2, color=c, label=r.name)
        ax1.scatter(r.rough, r.mse, color=c, s=30, label=r.name)  # NaN (diverged) is not drawn
    ax0.set_title("predictions on the test stretch (seed 0)")
    ax0.set_ylabel(data.series.unit)
    ax0.legend(fontsize=7, ncol=2)
    ax1.axvline(roughness(truth), color="black", lw=1, ls=":", label="roughness of the truth")
    ax1.set_xlabel(f"roughness ({data.series.unit})")
    ax1.set_ylabel(f"test MSE ({data.series.unit})²")
    ax1.set_yscale("log")
    ax1.set_title("smooth is not the same as good")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    return fig
