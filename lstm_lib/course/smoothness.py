"""Why a from-scratch model can look "smoother": every combination of four recipe knobs.

Roughness of a predicted series p_1..p_n is the mean absolute second difference,

    roughness(p) = mean_t |p_{t+1} - 2 p_t + p_{t-1}|,

zero for a straight line, large for a curve that zig-zags. Chapter 12 trains the lstm_lib
LSTM (the race's model) with the race's shared recipe (Adam, lr 0.01, loss averaged over the
batch, scaled input) and with the knobs of a widely shared from-scratch experiment switched:
a small learning rate, the loss summed over the batch, SGD with momentum, the raw (unscaled)
input. `recipes()` gives all 16 combinations, so each knob is seen alone and together with
the others, under both optimisers. Each run records its test MSE and roughness, how far the
parameters move per update (`StepMeter`), and how many gate pre-activations sit in the flat
part of their sigmoid or tanh before training and at the end (`gate_saturation`).
`input_form` separates the raw-input knob into its halves (centred only, scaled only), and
`train_variant` can also shrink the initial input weights or perturb every initial weight by
about one rounding (`jitter_weights`). experiments/smoothness.py runs the whole study; the
chapter shows its stored results and re-runs a few recipes live.
"""
import contextlib
import io
import itertools
from dataclasses import asdict, dataclass

import numpy as np

from ..forecasters import lstm_lib_model
from ..losses import MSELoss
from ..optim import Adam, Momentum
from ..seeding import seed as seed_everything
from ..training import TrainingDiverged, fit

MOMENTUM = 0.9
SMALL_LR, SHARED_LR = 5e-4, 1e-2
# a sigmoid is within 0.01 of 0 or 1 beyond |z| = 4.6, a tanh within 0.01 of -1 or 1 beyond 2.65
FLAT_SIGMOID, FLAT_TANH = 4.6, 2.65
BLOWN_UP = 1000  # a test MSE above this many times the truth's variance counts as diverged


def roughness(pred):
    """Mean absolute second difference of a 1-D series (at least 3 values)."""
    p = np.asarray(pred, np.float64).ravel()
    if p.size < 3:
        raise ValueError(f"roughness needs at least 3 values, got {p.size}")
    return float(np.mean(np.abs(p[2:] - 2 * p[1:-1] + p[:-2])))


@dataclass(frozen=True)
class Knobs:
    """One training recipe: optimiser ('adam' or 'momentum'), learning rate, loss reduction
    ('mean' or 'sum') and whether the input is scaled."""

    optimizer: str = "adam"
    lr: float = SHARED_LR
    reduction: str = "mean"
    scaled_input: bool = True

    def name(self):
        """What differs from the shared recipe, e.g. 'momentum-SGD + raw input'."""
        parts = [label for on, label in ((self.optimizer == "momentum", "momentum-SGD"),
                                         (self.lr != SHARED_LR, "small lr"),
                                         (self.reduction == "sum", "summed"),
                                         (not self.scaled_input, "raw input")) if on]
        if len(parts) == 4:
            return "all four (from-scratch recipe)"
        return " + ".join(parts) or "shared recipe"

    def describe(self):
        opt = "Adam" if self.optimizer == "adam" else f"SGD + momentum {MOMENTUM}"
        red = "averaged" if self.reduction == "mean" else "summed"
        return (f"{opt}, lr {self.lr:g}, loss {red} over the batch, "
                f"{'scaled' if self.scaled_input else 'raw'} input")

    def nominal_step(self, batch_size=64):
        """The step size the recipe asks for. Adam: about lr per parameter and update, whatever
        the gradient's size (it divides by the gradient's running RMS), so summing changes
        nothing. Momentum-SGD: an effective learning rate lr * (batch_size if summed) /
        (1 - momentum), which multiplies the gradient (so raw input, which makes the input
        weights' gradients large, makes their steps large)."""
        if self.optimizer == "adam":
            return self.lr
        return self.lr * (batch_size if self.reduction == "sum" else 1) / (1 - MOMENTUM)


def recipes():
    """All 16 combinations of the four knobs, name -> Knobs: the Adam ones first, each block
    from the shared recipe's settings to all knobs of the block switched."""
    out = {}
    for opt, lr, red, scaled in itertools.product(("adam", "momentum"), (SHARED_LR, SMALL_LR),
                                                  ("mean", "sum"), (True, False)):
        k = Knobs(opt, lr, red, scaled)
        out[k.name()] = k
    def order(kv):
        k = kv[1]
        on = (k.lr != SHARED_LR, k.reduction == "sum", not k.scaled_input)
        return k.optimizer == "momentum", sum(on), [not v for v in on]
    return dict(sorted(out.items(), key=order))


class StepMeter:
    """Wraps an optimiser (fit calls its step() and reads its lr) and records, for every update,
    the root-mean-square change of all parameters and of the `watch` parameters alone."""

    def __init__(self, optimizer, model, watch=("0.W_x",)):
        self.optimizer, self.model, self.watch = optimizer, model, watch
        self.rms_all, self.rms_watch = [], []

    @property
    def lr(self):
        return self.optimizer.lr

    def step(self):
        before = {k: p.copy() for k, p in self.model.params.items()}
        self.optimizer.step()
        d = {k: (p - before[k]).astype(np.float64).ravel() for k, p in self.model.params.items()}
        self.rms_all.append(float(np.sqrt(np.mean(np.concatenate(list(d.values())) ** 2))))
        self.rms_watch.append(float(np.sqrt(np.mean(np.concatenate([d[k] for k in self.watch]) ** 2))))


def gate_saturation(lstm, X):
    """Fraction of the LSTM's gate pre-activations over the windows X (batch, time, input) that
    lie in the flat part of their nonlinearity (|z| > 4.6 for the sigmoid gates i, f, o,
    |z| > 2.65 for the tanh candidate g): there the gate barely responds to its input."""
    p, H = lstm.params, lstm.hidden_size
    X = np.asarray(X, np.float64)
    h = lstm.forward(X).astype(np.float64)  # (batch, time, H)
    h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    z = np.abs(X @ p["W_x"] + h_prev @ p["W_h"] + p["b"])  # (batch, time, 4H)
    limit = np.full(4 * H, FLAT_SIGMOID)
    limit[2 * H:3 * H] = FLAT_TANH
    return float(np.mean(z > limit))


@dataclass
class Run:
    """One recipe on one seed. pred: test predictions in the series' units (None if diverged);
    mse in units², roughness in units, step_all / step_input: mean RMS change per update of all
    parameters / of the input weights W_x; saturation: gate_saturation on the test windows at
    the end, saturation_init: the same before the first update."""

    diverged: bool
    pred: np.ndarray = None
    mse: float = np.nan
    roughness: float = np.nan
    step_all: float = np.nan
    step_input: float = np.nan
    saturation: float = np.nan
    saturation_init: float = np.nan

    def numbers(self):
        return {k: v for k, v in asdict(self).items() if k != "pred"}


# --- centring and scaling, separated ---------------------------------------------------------

INPUT_FORMS = ("raw", "centred only", "scaled only", "centred and scaled")


def input_form(data, X, form):
    """Windows X as the race's model sees them (centred and scaled with the training part's mean
    and std) -> the same windows in `form`: 'raw' (the series' units), 'centred only'
    (x - mean), 'scaled only' (x / std) or 'centred and scaled' (X itself). float32."""
    if form not in INPUT_FORMS:
        raise ValueError(f"input form must be one of {INPUT_FORMS}, got {form!r}")
    if form == "centred and scaled":
        return np.asarray(X, np.float32)
    units = data.scaled_input_units(X).astype(np.float64)
    mean, std = data.scaler.mean, data.scaler.std
    return {"raw": units, "centred only": units - mean, "scaled only": units / std}[form].astype(np.float32)


def jitter_weights(model, size, seed):
    """Multiply every parameter by (1 + size * N(0, 1)), drawn from its own generator: with size
    about float32's rounding unit, a change no larger than one rounding."""
    rng = np.random.default_rng(10_000 + seed)
    for p in model.params.values():
        p[...] = p.astype(np.float64) * (1 + size * rng.standard_normal(p.shape))


def train_variant(data, knobs, seed=0, hidden=32, epochs=60, batch_size=64, form=None,
                  init_wx_scale=1.0, jitter=0.0):
    """Train lstm_lib's LSTM -> last step -> Linear (the race's model, forecasters.lstm_lib_model)
    on `data` (a forecasting.ForecastData) with `knobs`; returns a Run. The target is always
    the scaled one (so test MSEs compare); only the input may be raw. `form` (one of
    INPUT_FORMS) overrides knobs.scaled_input; `init_wx_scale` multiplies the initial input
    weights; `jitter` perturbs every initial weight (jitter_weights). A run diverged if its
    loss became NaN or inf (fit stops it) or its test MSE ended above BLOWN_UP times the
    variance of the truth (weights blown up, loss still finite)."""
    seed_everything(seed)
    model = lstm_lib_model(hidden)
    model.layers[0].params["W_x"] *= np.float32(init_wx_scale)
    if jitter:
        jitter_weights(model, jitter, seed)
    opt = Adam(model, knobs.lr) if knobs.optimizer == "adam" else Momentum(model, knobs.lr, MOMENTUM)
    meter = StepMeter(opt, model)
    form = form or ("centred and scaled" if knobs.scaled_input else "raw")
    X_train, X_test = input_form(data, data.X_train, form), input_form(data, data.X_test, form)
    saturation_init = gate_saturation(model.layers[0], X_test)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # fit prints the divergence message
            fit(model, MSELoss(knobs.reduction), meter, X_train, data.y_train, epochs=epochs,
                batch_size=batch_size, progress=False, rng=np.random.default_rng(seed),
                on_divergence="raise")
    except TrainingDiverged:
        return Run(diverged=True, saturation_init=saturation_init)
    model.eval()
    pred = data.to_units(model.forward(X_test)[:, 0])
    if not np.all(np.isfinite(pred)) or np.mean((pred - data.y_test_units) ** 2) > BLOWN_UP * np.var(
            data.y_test_units):
        return Run(diverged=True, saturation_init=saturation_init)  # finite loss, blown-up weights
    return Run(False, pred, float(np.mean((pred - data.y_test_units) ** 2)), roughness(pred),
               float(np.mean(meter.rms_all)), float(np.mean(meter.rms_watch)),
               gate_saturation(model.layers[0], X_test), saturation_init)


def smoother_study(data, recipes_=None, seeds=(0, 1, 2), log=None, **train):
    """Every recipe (name -> Knobs; default: all 16) on every seed: dict name -> list of Run."""
    out = {}
    for name, knobs in (recipes_ or recipes()).items():
        out[name] = [train_variant(data, knobs, s, **train) for s in seeds]
        if log:
            log(f"{name}: {summary(out[name])}")
    return out


def mean_spread(xs):
    """(mean, std) over the finite values, or (nan, nan) if there are none."""
    xs = np.asarray(xs, np.float64)
    xs = xs[np.isfinite(xs)]
    return (float(xs.mean()), float(xs.std())) if len(xs) else (np.nan, np.nan)


def summary(runs):
    """A one-line account of a recipe's runs: means ± std of its numbers."""
    ok = [r for r in runs if not r.diverged]
    text = ", ".join(f"{k} {m:.4g} ± {s:.2g}" for k in ("mse", "roughness", "step_all", "saturation")
                     for m, s in [mean_spread([getattr(r, k) for r in ok])])
    return text + (f" (diverged {len(runs) - len(ok)} of {len(runs)})" if len(ok) < len(runs) else "")


# --- the study's numbers as a table and a figure ---------------------------------------------

def study_numbers(study):
    """dict name -> list of Run (smoother_study) -> dict name -> list of plain dicts (JSON)."""
    return {name: [r.numbers() for r in runs] for name, runs in study.items()}


def stats(numbers, key):
    """dict name -> (mean, std) of `key` over each recipe's runs that did not diverge."""
    return {name: mean_spread([r[key] for r in runs if not r["diverged"]])
            for name, runs in numbers.items()}


def study_table(numbers, truth_roughness, knobs=None, unit="units", batch_size=64):
    """Markdown table of a study (study_numbers, or the stored one): per recipe the step it asks
    for, the measured RMS step per update (all parameters; the input weights W_x), test MSE,
    roughness relative to the truth's, and the fraction of gates in the flat part; mean ± std
    over the seeds whose training did not diverge ("-": none)."""
    knobs = knobs or recipes()
    base = stats(numbers, "mse")["shared recipe"][0]

    def ms(m, s, fmt, unit=""):
        return "-" if not np.isfinite(m) else f"{m:{fmt}} ± {s:{fmt}}{unit}"

    cols = {k: stats(numbers, k) for k in ("step_all", "step_input", "mse", "roughness", "saturation")}
    lines = [(f"| recipe | step asked for | RMS step per update, all parameters | RMS step, input "
             f"weights | test MSE ({unit})² | MSE / shared recipe's | roughness / truth's | "
             f"gates in the flat part |"), "|---|---|---|---|---|---|---|---|"]
    for name, runs in numbers.items():
        k = knobs[name]
        n_div = sum(r["diverged"] for r in runs)
        flag = f" ({n_div} of {len(runs)} runs diverged)" if n_div else ""
        step = f"lr {k.lr:g} (Adam)" if k.optimizer == "adam" else f"{k.nominal_step(batch_size):.3g} × gradient"
        m, s = cols["mse"][name]
        rm, rs = cols["roughness"][name]
        sm, ss = cols["saturation"][name]
        lines.append(
            f"| {name} | {step} | {ms(*cols['step_all'][name], '.1e')} | "
            f"{ms(*cols['step_input'][name], '.1e')} | {ms(m, s, '.0f')}{flag} | "
            f"{ms(m / base, s / base, '.1f')} | {ms(rm / truth_roughness, rs / truth_roughness, '.2f')} | "
            f"{ms(100 * sm, 100 * ss, '.0f', ' %')} |")
    return "\n".join(lines)


SHOW = {"shared recipe": "shared recipe", "all four (from-scratch recipe)": "from-scratch recipe",
        "momentum-SGD + small lr + summed": "from-scratch recipe, scaled input"}


def plot_study(numbers, preds, data, knobs=None, show=SHOW, dpi=80):
    """Left: the test stretch with the predictions (first seed) of the recipes in `show`
    (name -> label).
    Right: test MSE against roughness / truth's, one point per recipe (mean over seeds; bars:
    std), colour: scaled or raw input, marker: Adam or momentum-SGD."""
    import matplotlib.pyplot as plt

    from ..series import x_axis

    knobs = knobs or recipes()
    truth = data.y_test_units
    tr = roughness(truth)
    x = x_axis(data.series.labels)[data.test_index]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=dpi, gridspec_kw={"width_ratios": [1.5, 1]})
    ax0.plot(x, truth, color="black", lw=2.4, label="truth")
    for (name, label), c in zip(show.items(), ("tab:blue", "tab:red", "tab:green", "tab:purple")):
        if preds.get(name) is not None:
            ax0.plot(x, preds[name], lw=1.3, color=c, label=label)
    ax0.set_title("predictions on the test stretch (seed 0)")
    ax0.set_ylabel(data.series.unit)
    ax0.legend(fontsize=7)
    mse, rough = stats(numbers, "mse"), stats(numbers, "roughness")
    for name, k in knobs.items():
        if not np.isfinite(mse[name][0]):
            continue
        color = "tab:blue" if k.scaled_input else "tab:red"
        marker = "o" if k.optimizer == "adam" else "^"
        ax1.errorbar(rough[name][0] / tr, mse[name][0], xerr=rough[name][1] / tr, yerr=mse[name][1],
                     fmt=marker, color=color, ms=6, lw=0.8)
    for label, color, marker in (("Adam, scaled input", "tab:blue", "o"), ("Adam, raw input", "tab:red", "o"),
                                 ("momentum-SGD, scaled input", "tab:blue", "^"),
                                 ("momentum-SGD, raw input", "tab:red", "^")):
        ax1.plot([], [], marker, color=color, label=label)
    ax1.axvline(1.0, color="black", lw=1, ls=":", label="as rough as the truth")
    ax1.set_xlabel("roughness / truth's roughness")
    ax1.set_ylabel(f"test MSE ({data.series.unit})²")
    ax1.set_yscale("log")
    ax1.set_title("16 recipes: mean ± std over seeds")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    return fig
