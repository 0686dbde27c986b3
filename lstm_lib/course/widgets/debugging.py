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


# --- where each planted bug sits, drawn -------------------------------------------------------

BUG_MAP = {  # bug number -> (where it sits, the method or object, the short name)
    1: ("backward", "new_grad", "gradient sums start as randn noise"),
    2: ("optimiser", "step", "the step is never written into params"),
    3: ("optimiser", "params", "the optimiser sees the read-out only"),
    4: ("backward", "gates_backward", "forget gate without f(1 - f)"),
    5: ("backward", "carry", "dc not passed back"),
    6: ("backward", "input_grad", "a weight block without .T"),
}
TOOLS_AT = {"forward": "forward vs a trusted layer",
            "backward": "gradient check (1 step and 5)\nrepeatability, shape check",
            "optimiser": "update ratio"}


def draw_bug_map(ax=None):
    """The training loop of chapter 08 as boxes (forward, loss, backward with its four small
    methods, optimiser step), each planted bug (red number) at the place it sits, and under
    each box the tool that looks there. Returns the figure; parts carry gids 'bugmap:<name>'."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 4.4), dpi=80)
    fig = ax.figure
    red, grey = "tab:red", "#444444"

    def box(x, y, w, h, title, name, lines=()):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.06", facecolor="#f7f7f4",
                                    edgecolor=grey, lw=1.4, zorder=2, gid=f"bugmap:{name}"))
        ax.text(x + w / 2, y + h - 0.28, title, ha="center", va="center", fontsize=11, weight="bold", zorder=3)
        rows = {}
        for k, line in enumerate(lines):
            yy = y + h - 0.75 - 0.45 * k
            ax.text(x + 0.25, yy, line, ha="left", va="center", fontsize=9.5, family="monospace", zorder=3)
            rows[line] = yy
        return rows

    def arrow(a, b, name, rad=0.0):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=14, color=grey, lw=1.4,
                                     connectionstyle=f"arc3,rad={rad}", zorder=1, gid=f"bugmap:{name}"))

    boxes = {"forward": (0.4, 2.2, 2.3, 2.0), "loss": (3.3, 2.7, 1.3, 1.0),
             "backward": (5.2, 1.7, 2.9, 2.5), "optimiser": (8.7, 2.2, 2.4, 2.0)}
    rows = {"forward": box(*boxes["forward"], "forward", "forward", ["step"]),
            "loss": box(*boxes["loss"], "loss", "loss"),
            "backward": box(*boxes["backward"], "backward", "backward",
                            ["gates_backward", "carry", "input_grad", "new_grad"]),
            "optimiser": box(*boxes["optimiser"], "optimiser", "optimiser", ["params", "step"])}
    arrow((2.8, 3.2), (3.2, 3.2), "to_loss")
    arrow((4.7, 3.2), (5.1, 3.2), "to_backward")
    arrow((8.2, 3.2), (8.6, 3.2), "to_optimiser")
    arrow((9.9, 4.3), (1.55, 4.3), "to_params", rad=0.25)
    ax.text(5.7, 4.75, "the weights, updated in place: the next forward pass", ha="center", fontsize=9, color=grey)
    for n, (where, row, _text) in BUG_MAP.items():
        x, _, w, _ = boxes[where]
        yy = rows[where][row]
        ax.text(x + w - 0.2, yy, str(n), ha="center", va="center", fontsize=9, color="white", weight="bold",
                zorder=4, gid=f"bugmap:bug{n}", bbox={"boxstyle": "circle,pad=0.2", "fc": red, "ec": red})
    for where, tools in TOOLS_AT.items():
        x, y, w, _ = boxes[where]
        ax.text(x + w / 2, y - 0.2, tools, ha="center", va="top", fontsize=8.5, color="tab:blue",
                gid=f"bugmap:tools:{where}")
    ax.plot([0.4, 11.1], [0.35, 0.35], color="tab:blue", lw=1, ls="--")
    ax.text(5.75, 0.12, "overfitting test: the whole loop must memorise one sine wave", ha="center",
            va="top", fontsize=8.5, color="tab:blue", gid="bugmap:tools:loop")
    legend = "   ".join(f"{n}: {text}" for n, (_, _, text) in BUG_MAP.items())
    half = legend.index("   4:")
    ax.text(5.75, -0.55, legend[:half] + "\n" + legend[half + 3:], ha="center", va="top", fontsize=8.5, color=red)
    ax.set_xlim(0, 11.5)
    ax.set_ylim(-1.4, 5.8)
    ax.axis("off")
    ax.set_title("where each planted bug sits (red) and which tool looks there (blue)", fontsize=11)
    return fig
