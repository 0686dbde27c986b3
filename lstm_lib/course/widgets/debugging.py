"""Chapter 08 widget: the learning rate and the parameter-update ratio ||delta p|| / ||p||.

Two copies of the same small model (LSTM(1, 8) + Linear(8, 1), same initial weights) take five
full-batch SGD steps on one sine wave: one with the correct `optim.SGD`, one with
`bugs.NoStepSGD`, whose step never reaches the arrays in `params`. `diagnostics.update_ratios`
measures how far each parameter moved in the last step. The correct optimiser's ratios grow in
proportion to the learning rate while the steps are small (and leave the healthy band around
1e-3 on either side); the broken one's are 0 at every learning rate.
"""
import functools

import numpy as np

from ... import diagnostics
from ...base import Sequential
from ...layers import Linear
from ...losses import MSELoss
from ...lstm import LSTM
from ...optim import SGD
from .. import planted_bugs as bugs
from . import interact, slider

HEALTHY = (1e-4, 1e-2)  # the rule of thumb: a step moves a weight by about 1e-3 of its size
DRAW_FLOOR = 1e-7  # where a ratio of exactly 0 is drawn on the log axis


def sine_wave(T=60):
    """One sine wave of period 20 steps: inputs (1, T, 1) and next values (1, T, 1)."""
    wave = np.sin(2 * np.pi * np.arange(T + 1) / 20).astype(np.float32)[None, :, None]
    return wave[:, :-1], wave[:, 1:]


def learning_rate(log10_lr):
    """10 ** log10_lr, rounded to 3 significant digits (what the slider means)."""
    return float(f"{10.0 ** float(log10_lr):.3g}")


@functools.lru_cache(maxsize=128)
def update_ratio_run(log10_lr=-2.0, steps=5, seed=0):
    """Take `steps` SGD steps at learning rate 10**log10_lr with the correct optimiser and
    with NoStepSGD, from the same initial weights. Returns a dict:
    correct / never_steps: {parameter name: ||p_after - p_before|| / ||p_before||} for the
    LAST step, from diagnostics.update_ratios, except that a parameter that started at exactly
    zero (the output bias) has no size of its own to compare with: inf if it moved, else 0
    (the convention of update_ratios);
    loss_correct / loss_never_steps: the loss before each step and after the last (arrays of
    length steps + 1), and lr."""
    lr = learning_rate(log10_lr)
    x, y = sine_wave()
    result = {"lr": lr}
    for name, make_opt in (("correct", SGD), ("never_steps", bugs.NoStepSGD)):
        rng = np.random.default_rng(seed)
        model = Sequential(LSTM(1, 8, rng=rng), Linear(8, 1, rng=rng))
        loss_fn, opt = MSELoss(), make_opt(model, lr)
        initial = diagnostics.snapshot(model)
        losses = []
        with np.errstate(all="ignore"):
            for _ in range(steps):
                before = diagnostics.snapshot(model)  # the ratio is measured on the last step
                losses.append(float(loss_fn.forward(model.forward(x), y)))
                model.backward(loss_fn.backward())
                opt.step()
            losses.append(float(loss_fn.forward(model.forward(x), y)))
        ratios = diagnostics.update_ratios(model, before)
        for k, p0 in initial.items():
            if not np.any(p0):  # started at exactly 0: its size is only what the steps gave it
                ratios[k] = np.inf if ratios[k] > 0 else 0.0
        result[name] = ratios
        result["loss_" + name] = np.array(losses)
    return result


def _finite(ratios):
    return {k: v for k, v in ratios.items() if np.isfinite(v)}


def plot_update_ratios(log10_lr=-2.0):
    """The widget's figure: the update ratio of every parameter (log scale), correct optimiser
    next to the never-stepping one, with the healthy band shaded."""
    import matplotlib.pyplot as plt

    r = update_ratio_run(log10_lr)
    names = list(_finite(r["correct"]))
    k = np.arange(len(names))
    good = np.array([r["correct"][n] for n in names])
    never = np.array([r["never_steps"][n] for n in names])
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=80)
    ax.axhspan(*HEALTHY, color="tab:green", alpha=0.15, label="healthy: about 1e-3")
    ax.bar(k - 0.2, np.maximum(good, DRAW_FLOOR), width=0.4, bottom=0, color="tab:blue",
           label="SGD (correct)")
    ax.bar(k + 0.2, np.maximum(never, DRAW_FLOOR), width=0.4, color="tab:red",
           label="NoStepSGD (never steps)")
    for j, (g, n) in enumerate(zip(good, never)):
        ax.text(j - 0.2, max(g, DRAW_FLOOR) * 1.4, f"{g:.0e}", ha="center", fontsize=7)
        ax.text(j + 0.2, DRAW_FLOOR * 1.4, "0" if n == 0 else f"{n:.0e}", ha="center",
                fontsize=8, color="tab:red")
    ax.set_yscale("log")
    ax.set_ylim(DRAW_FLOOR, 10.0)
    ax.set_xticks(k)
    ax.set_xticklabels(names)
    ax.set_ylabel(r"$\|\Delta p\| / \|p\|$ in one step (the 5th)")
    ax.set_title(f"update ratios, learning rate {r['lr']:g}", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper left", ncol=3)
    fig.tight_layout()
    return fig


def summary_update_ratios(log10_lr=-2.0):
    """The widget's readout: the ratios of both optimisers and what happened to the loss."""
    r = update_ratio_run(log10_lr)
    good = _finite(r["correct"])
    low, high = HEALTHY
    where = {n: ("in the band" if low <= v <= high else "too small" if v < low else "too large")
             for n, v in good.items()}
    parts = ", ".join(f"{n} <b>{v:.1e}</b> ({where[n]})" for n, v in good.items())
    never = ", ".join(f"{n} {v:g}" for n, v in r["never_steps"].items())
    from_zero = [n for n, v in r["correct"].items() if v == np.inf]
    if from_zero:
        parts += f" ({', '.join(from_zero)} started at 0: no size to compare with)"
    lc, ln = r["loss_correct"], r["loss_never_steps"]
    return (f"learning rate {r['lr']:g}: in one step SGD moves {parts}; loss over 5 steps "
            f"{lc[0]:.4f} → {lc[-1]:.4f}. "
            f"NoStepSGD: {never}; loss {ln[0]:.4f} → {ln[-1]:.4f}")


def update_ratio_widget(log10_lr=-2.0):
    """Slider: log10 of the learning rate -> update ratios, correct vs never-stepping SGD."""
    return interact(plot_update_ratios, summary_update_ratios,
                    log10_lr=slider("log10 learning rate", -4.0, 0.0, 0.25, log10_lr,
                                    fmt=".2f"))
