"""Chapter 07 widget: learning rate and clipping threshold -> the loss curve of a short run.

`short_run` trains a tiny LSTM (hidden size 8) with plain SGD on a batch of sine waves for a
few dozen steps (well under a second) and returns the loss and gradient norm per step;
`plot_short_run` draws them, `summary_short_run` is the readout, `training_widget` wires two
sliders to them.
"""
import functools
import math

import numpy as np

from ..training_tasks import sine_batch
from . import interact, slider

__all__ = ["plot_short_run", "short_run", "sine_batch", "summary_short_run", "training_widget"]


@functools.lru_cache(maxsize=256)
def short_run(lr, clip=0.0, steps=80, seed=0):
    """Train LSTM(1, 8) + Linear(8, 1) with SGD(lr) on one batch of sine waves, clipping the
    global gradient norm to `clip` (0 = no clipping). Stops at the first NaN/inf.

    Returns a dict: loss and grad_norm (before clipping) per completed step, as arrays, and
    diverged_at (the step where the loss or gradient stopped being finite, or None)."""
    from ...base import Sequential
    from ...layers import Linear
    from ...losses import MSELoss
    from ...lstm import LSTM
    from ...optim import SGD, clip_grad_norm

    rng = np.random.default_rng(seed)
    model = Sequential(LSTM(1, 8, rng=rng), Linear(8, 1, rng=rng))
    loss_fn, opt = MSELoss(), SGD(model, lr)
    x, y = sine_batch(seed=seed)
    losses, norms, diverged_at = [], [], None
    with np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            loss = loss_fn.forward(model.forward(x), y)
            model.backward(loss_fn.backward())
            norm = clip_grad_norm(model, clip if clip > 0 else math.inf)
            if not (math.isfinite(loss) and math.isfinite(norm) and loss < 1e6):
                diverged_at = step
                break
            losses.append(loss)
            norms.append(norm)
            opt.step()
    return {"loss": np.array(losses), "grad_norm": np.array(norms), "diverged_at": diverged_at}


def _lr(log10_lr):
    return float(f"{10.0 ** log10_lr:.3g}")


def summary_short_run(log10_lr=-0.5, clip=1.0, steps=80):
    """The readout: learning rate, clipping, start and end loss, and what went wrong if anything."""
    lr = _lr(log10_lr)
    run = short_run(lr, float(clip), steps)
    clip_text = f"clip at {clip:g}" if clip > 0 else "no clipping"
    loss = run["loss"]
    text = f"lr = {lr:g}, {clip_text}: loss {loss[0]:.3f} &rarr; "
    if run["diverged_at"] is not None:
        return text + (f"<b>diverged at step {run['diverged_at']}</b> (loss became inf/NaN or "
                       f"exceeded 1e6)")
    text += f"{loss[-1]:.4f} after {len(loss)} steps"
    if loss.max() > 2 * loss[0]:
        text += f"; spiked to {loss.max():.3g} on the way"
    return text


def plot_short_run(log10_lr=-0.5, clip=1.0, steps=80):
    """Loss (log scale) and gradient norm per step of `short_run`, with the clip level."""
    import matplotlib.pyplot as plt

    lr = _lr(log10_lr)
    run = short_run(lr, float(clip), steps)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3), dpi=80)
    n = np.arange(1, len(run["loss"]) + 1)
    axes[0].semilogy(n, run["loss"], color="C0")
    axes[0].set_title(f"training loss (lr {lr:g})")
    axes[1].semilogy(n, run["grad_norm"], color="C1")
    if clip > 0:
        axes[1].axhline(clip, color="k", ls="--", lw=1, label=f"clip = {clip:g}")
        axes[1].legend(loc="upper right")
    axes[1].set_title("gradient norm before clipping")
    if run["diverged_at"] is not None:
        for ax in axes:
            ax.axvline(run["diverged_at"], color="red", lw=1)
            ax.text(run["diverged_at"], ax.get_ylim()[1], " diverged", color="red", va="top")
    for ax in axes:
        ax.set_xlim(0, steps + 1)
        ax.set_xlabel("step")
    fig.tight_layout()
    return fig


def training_widget(steps=80):
    """Sliders for log10(learning rate) and the clipping threshold (0 = off)."""
    return interact(
        lambda log10_lr, clip: plot_short_run(log10_lr, clip, steps),
        lambda log10_lr, clip: summary_short_run(log10_lr, clip, steps),
        log10_lr=slider("log10 learning rate", -2.0, 0.6, 0.1, -0.5, fmt=".1f"),
        clip=slider("clip threshold (0 = off)", 0.0, 5.0, 0.25, 1.0, fmt=".2f"),
    )


def draw_training_loop(windows=3):
    """The training loop of chapter 07 over a stream cut into windows (truncated BPTT).

    Each window: forward from the carried state, loss, backward to the window's start (cut
    there), clip the gradient by its global norm, optimiser step. The state (h, c) is handed
    on to the next window; the gradient is not. Returns the Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from ..diagram import GRAD, GREY, INK

    carry = "#1f77b4"
    fig, ax = plt.subplots(figsize=(2.2 + 3.2 * windows, 4.2), dpi=90)
    ax.set_xlim(0, 0.6 + 3.2 * windows)
    ax.set_ylim(-2.35, 2.3)
    ax.axis("off")

    def arrow(a, b, color, lw=1.6, ls="-", style="-|>"):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=12, color=color, lw=lw, ls=ls,
                                     shrinkA=0, shrinkB=0, zorder=3))

    for w in range(windows):
        x0 = 0.4 + 3.2 * w
        ax.add_patch(FancyBboxPatch((x0, 0.2), 2.6, 1.3, boxstyle="round,pad=0.05", facecolor="#f7f7f4",
                                    edgecolor="#bbbbbb", zorder=0))
        ax.text(x0 + 1.3, 1.75, f"window {w + 1} (k steps)", ha="center", fontsize=9, color="#555555")
        for k in range(5):  # the steps inside the window
            ax.add_patch(FancyBboxPatch((x0 + 0.15 + k * 0.5, 0.95), 0.3, 0.3, boxstyle="round,pad=0.02",
                                        facecolor="white", edgecolor=GREY, zorder=2))
        arrow((x0 + 0.1, 1.1), (x0 + 2.5, 1.1), GREY, lw=1.2)  # forward through the window
        arrow((x0 + 2.5, 0.55), (x0 + 0.12, 0.55), GRAD, lw=1.8)  # backward, to the window's start
        ax.plot([x0 + 0.05] * 2, [0.35, 0.75], color=GRAD, lw=2.5, zorder=4)  # the cut
        if w == 0:
            arrow((x0 + 1.3, 0.15), (x0 + 1.3, -0.45), GREY, lw=1.0)
        ax.text(x0 + 1.3, 0.32, "backward, stops at the start", ha="center", va="center", fontsize=7.5, color=GRAD)
        if w < windows - 1:
            arrow((x0 + 2.65, 1.1), (x0 + 3.2 + 0.1, 1.1), carry, lw=2.4)
            ax.text(x0 + 2.92, 1.32, "(h, c)", ha="center", fontsize=8.5, color=carry)
            ax.text(x0 + 2.92, 0.55, "no\ngradient", ha="center", va="center", fontsize=7, color=GRAD)
    # the loop run once per window, drawn once under the windows
    names = ["forward from the\ncarried (h, c)", "loss on the\nwindow's targets", "backward through\nthe window (BPTT)",
             "clip: scale g so\n|g| <= tau", "optimiser step\n(SGD, Adam ...)", "keep the final\n(h, c)"]
    span = 3.2 * windows - 0.6
    xs = [0.4 + span * (k + 0.5) / len(names) for k in range(len(names))]
    for k, (cx, name) in enumerate(zip(xs, names)):
        ax.text(cx, -0.85, name, ha="center", va="center", fontsize=8, color=INK,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "#fff4e0" if k == 3 else "white",
                      "edgecolor": "#d08a00" if k == 3 else GREY})
        if k < len(names) - 1:
            arrow((cx + 0.62, -0.85), (xs[k + 1] - 0.62, -0.85), GREY, lw=1.0)
    arrow((xs[-1], -1.25), (xs[0], -1.25), GREY, lw=1.0, ls="--")
    ax.text((xs[0] + xs[-1]) / 2, -1.45, "once per window: then the next window", ha="center", va="center",
            fontsize=8, color="#777777")
    ax.text(0.4, -2.05, "blue: the state is carried into the next window, so the forward pass sees the whole past;  "
            "red: the gradient is cut at each window's start;  orange: the gradient is clipped before each step",
            fontsize=8, color=INK, ha="left", wrap=True)
    ax.set_title("training with truncated BPTT: one update per window", fontsize=11)
    fig.tight_layout()
    return fig
