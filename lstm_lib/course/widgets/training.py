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
