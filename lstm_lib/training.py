"""A training loop for sequence models: minibatches or truncated BPTT with carried state,
clipping, progress, history, and a clean stop when training diverges."""
import math
from dataclasses import dataclass, field

import numpy as np

from .optim import clip_grad_norm
from .progress import Progress
from .seeding import get_rng
from .state import stateful_layers


class TrainingDiverged(FloatingPointError):
    """Raised by fit(on_divergence='raise') when the loss or a gradient is NaN or inf."""


@dataclass
class History:
    """Per step: loss and gradient norm (before clipping); per epoch: mean training loss and,
    if validation data was given, validation loss. `diverged` holds the stop message."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    diverged: str = None


def recurrent_layers(model):
    """Every layer inside `model` that carries recurrent state: those that follow the state
    protocol of `lstm_lib.state` (a settable `stateful`, `reset_state()`), found by it, not by
    their class."""
    return stateful_layers(model)


def minibatches(X, Y, batch_size, shuffle=True, rng=None):
    """(x, y) batches of whole sequences along axis 0, shuffled each call if asked."""
    n = len(X)
    order = (rng or get_rng()).permutation(n) if shuffle else np.arange(n)
    for s in range(0, n, batch_size):
        idx = order[s:s + batch_size]
        yield X[idx], Y[idx]


def bptt_windows(X, Y, window):
    """Consecutive time windows of `window` steps from (batch, time, ...) streams; a stateful
    model carries its state from one window into the next (truncated BPTT)."""
    T = X.shape[1]
    for s in range(0, T, window):
        yield X[:, s:s + window], Y[:, s:s + window]


def evaluate(model, loss_fn, X, Y, batch_size=256):
    """Mean loss over (X, Y) in evaluation mode, stateless."""
    was_training = getattr(model, "training", True)
    model.eval()
    total, count = 0.0, 0
    for s in range(0, len(X), batch_size):
        model.reset_state()
        x, y = X[s:s + batch_size], Y[s:s + batch_size]
        total += loss_fn.forward(model.forward(x), y) * len(x)
        count += len(x)
    model.reset_state()
    if was_training:
        model.train()
    return total / count


def fit(model, loss_fn, optimizer, X, Y, *, epochs=1, batch_size=32, bptt=None, clip=None,
        val=None, progress=True, shuffle=True, on_divergence="stop", rng=None):
    """Train `model` and return a History.

    Without `bptt`: X and Y hold independent sequences along axis 0, taken in (shuffled)
    minibatches of `batch_size`; the state starts at zero for each batch.
    With `bptt=k`: X (batch, time, ...) holds long parallel streams; each epoch walks through
    them in windows of k steps, carrying the recurrent state from window to window (the
    gradient stops at window edges). The state is reset at the start of every epoch.

    `clip`: clip the global gradient norm to this value. `val=(Xv, Yv)`: validation loss
    after each epoch. If a loss or gradient becomes NaN/inf, training stops, the last good
    parameters are restored, and the message (which step, what to try) is printed and kept
    in history.diverged, or raised as TrainingDiverged if on_divergence='raise'.
    """
    if on_divergence not in ("stop", "raise"):
        raise ValueError(f"on_divergence must be 'stop' or 'raise', got {on_divergence!r}")
    history = History()
    rec = recurrent_layers(model)
    if bptt is not None and not rec:
        raise ValueError(f"bptt={bptt} carries the recurrent state from window to window, but "
                         f"{type(model).__name__} has no layer that carries state (none has "
                         f"the `stateful` attribute of the state protocol, lstm_lib.state)")
    saved_stateful = [r.stateful for r in rec]
    snapshot = {k: p.copy() for k, p in model.params.items()}
    bar = Progress(progress)
    step = 0
    n_steps = math.ceil(X.shape[1] / bptt) if bptt is not None else math.ceil(len(X) / batch_size)
    model.train()
    try:
        for r in rec:
            r.stateful = bptt is not None
        for epoch in range(1, epochs + 1):
            model.reset_state()
            batches = (bptt_windows(X, Y, bptt) if bptt is not None
                       else minibatches(X, Y, batch_size, shuffle, rng))
            losses = []
            for b, (x, y) in enumerate(batches, 1):
                if bptt is None:
                    model.reset_state()
                step += 1
                with np.errstate(over="ignore", invalid="ignore"):  # NaN/inf is checked below
                    loss = loss_fn.forward(model.forward(x), y)
                    model.backward(loss_fn.backward())
                    norm = clip_grad_norm(model, clip if clip else math.inf)
                if not (math.isfinite(loss) and math.isfinite(norm)):
                    history.diverged = _divergence_message(step, epoch, loss, norm, optimizer, clip)
                    for k, p in model.params.items():
                        p[...] = snapshot[k]
                    break
                for k, p in model.params.items():
                    np.copyto(snapshot[k], p)
                optimizer.step()
                history.loss.append(loss)
                history.grad_norm.append(norm)
                losses.append(loss)
                bar.update(f"epoch {epoch}/{epochs}  batch {b}/{n_steps}  loss {loss:.4f}  "
                           f"|grad| {norm:.3g}")
            if history.diverged:
                break
            history.epoch_loss.append(float(np.mean(losses)))
            text = f"epoch {epoch}/{epochs}  loss {history.epoch_loss[-1]:.4f}"
            if val is not None:
                history.val_loss.append(evaluate(model, loss_fn, *val))
                text += f"  val {history.val_loss[-1]:.4f}"
            bar.update(text, force=epoch == epochs)
    finally:
        for r, s in zip(rec, saved_stateful):
            r.stateful = s
        model.reset_state()
    if history.diverged:
        if on_divergence == "raise":
            raise TrainingDiverged(history.diverged)
        bar.close(history.diverged)
        if not progress:
            print(history.diverged)
    else:
        bar.close(text)
    return history


def _divergence_message(step, epoch, loss, norm, optimizer, clip):
    what = f"loss is {loss}" if not math.isfinite(loss) else f"gradient norm is {norm}"
    tips = [f"lower the learning rate (now {optimizer.lr:g}; try {optimizer.lr / 10:g})"]
    tips.append(f"clip gradients harder (clip={clip:g} now; try {clip / 10:g})" if clip
                else "clip gradients (clip=1.0)")
    return (f"Training diverged at step {step} (epoch {epoch}): {what}. Stopped and restored "
            f"the parameters of the last good step. Try: " + "; or ".join(tips) + ".")
