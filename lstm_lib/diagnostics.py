"""Debugging tools for recurrent models (chapter 08), each returning a printable report with
`passed` and a verdict that says what to look at:

- `update_ratios` / `update_ratio_check`: how far one optimiser step moves each parameter,
  ||delta p|| / ||p||. Zero means the step never reached the weights; above 1e-1 the
  learning rate is too large (a healthy step is often around 1e-3).
- `overfit_test`: can the model drive the loss on one tiny batch to (near) zero?
- `shape_check`: run forward and backward with all sizes different, and assert every shape.
- `repeatability_check`: does backward give the same gradients twice for the same input?
- `assert_shape`: one shape assertion with a message naming expected and actual shapes.
- `stored_activations`: how many numbers a recurrent layer keeps from forward for backward.
"""
import copy
from dataclasses import dataclass, field

import numpy as np

# --- shape assertions ----------------------------------------------------------------------

def assert_shape(arr, expected, name="array"):
    """AssertionError naming both shapes unless np.shape(arr) == expected (None = any size)."""
    shape = tuple(np.shape(arr))
    expected = tuple(expected)
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if not ok:
        raise AssertionError(f"{name} has shape {shape}, expected {expected}")
    return arr


@dataclass
class ShapeReport:
    """Which shape checks ran and the first problem found (if any)."""

    checked: list = field(default_factory=list)
    problem: str = None
    warning: str = None

    @property
    def passed(self):
        return self.problem is None

    def __str__(self):
        head = "shape check passed" if self.passed else f"shape check FAILED: {self.problem}"
        if self.warning:
            head += f"\n  warning: {self.warning}"
        return head + "".join(f"\n  ok  {c}" for c in self.checked)

    __repr__ = __str__


def shape_check(make_layer, batch=2, time=3, input_size=5, hidden_size=4, seed=0):
    """Build `make_layer(input_size, hidden_size)`, run forward and backward on random data
    and assert the shape of the output, dx, every gradient and the final state.

    Use sizes that are all different (the defaults are): with equal sizes a transposed
    matrix has the right shape by accident and the mistake stays silent. An exception
    raised inside forward or backward is reported as the problem, with where it happened.
    """
    sizes = [batch, time, input_size, hidden_size]
    report = ShapeReport()
    if len(set(sizes)) < len(sizes):
        report.warning = (f"sizes (batch, time, input, hidden) = {tuple(sizes)} are not all "
                          f"different: a transposed matrix may pass unnoticed")
    rng = np.random.default_rng(seed)
    B, T, I, H = sizes
    layer = make_layer(I, H)
    dtype = layer.dtype or np.float32
    x = rng.standard_normal((B, T, I)).astype(dtype)
    stage = "forward"
    try:
        out = layer.forward(x)
        assert_shape(out, (B, T, H), "output")
        report.checked.append(f"output {(B, T, H)}")
        for name, s in zip(("h", "c"), getattr(layer, "state", None) or ()):
            assert_shape(s, (B, H), f"final {name}")
            report.checked.append(f"final {name} {(B, H)}")
        stage = "backward"
        dx = layer.backward(rng.standard_normal((B, T, H)).astype(dtype))
        assert_shape(dx, (B, T, I), "dx")
        report.checked.append(f"dx {(B, T, I)}")
        for name, p in layer.params.items():
            assert_shape(layer.grads[name], p.shape, f"grads[{name!r}]")
            report.checked.append(f"grads[{name!r}] {p.shape}")
    except AssertionError as exc:
        report.problem = str(exc)
    except (ValueError, TypeError) as exc:
        report.problem = (f"{stage} raised {type(exc).__name__} with batch={B}, time={T}, "
                          f"input={I}, hidden={H}: {str(exc).splitlines()[0]}")
    return report


# --- parameter-update ratio ----------------------------------------------------------------

def snapshot(model):
    """A copy of every parameter array, to compare with after a step."""
    return {k: np.array(p, copy=True) for k, p in model.params.items()}


def update_ratios(model, before):
    """||p_after - p_before|| / ||p_before|| for each parameter. A parameter that started at
    exactly zero (a fresh bias) has no scale to compare with: its ratio is inf if it moved
    and 0 if it did not."""
    out = {}
    for k, p in model.params.items():
        p0 = np.asarray(before[k], np.float64)
        delta = float(np.linalg.norm(np.asarray(p, np.float64) - p0))
        norm = float(np.linalg.norm(p0))
        out[k] = delta / norm if norm > 0 else (np.inf if delta > 0 else 0.0)
    return out


@dataclass
class UpdateRatioReport:
    """Per parameter: ||delta p|| / ||p|| after one or more optimiser steps."""

    ratios: dict
    low: float = 1e-6
    high: float = 1e-1

    def verdict(self, name):
        r = self.ratios[name]
        if r == 0.0:
            return "NEVER MOVED"
        if r == np.inf:
            return "ok (moved from zero)"
        if r < self.low:
            return "too small"
        if r > self.high:
            return "too large"
        return "ok"

    @property
    def flagged(self):
        return [k for k in self.ratios if not self.verdict(k).startswith("ok")]

    @property
    def passed(self):
        return not self.flagged

    def __str__(self):
        lines = [f"  {k:<10} {v:7.1e}  {self.verdict(k)}" if np.isfinite(v) else
                 f"  {k:<10} {'-':>7}  {self.verdict(k)}" for k, v in self.ratios.items()]
        if self.passed:
            head = f"update ratios passed (every parameter between {self.low:g} and {self.high:g})"
        elif all(self.ratios[k] == 0.0 for k in self.ratios):
            head = ("update ratios FAILED: no parameter moved at all: the optimiser step is "
                    "not applied to the arrays in params (update them in place, p -= lr * g)")
        else:
            head = "update ratios FAILED for " + ", ".join(
                f"{k} ({self.verdict(k)})" for k in self.flagged)
        return head + "\n" + "\n".join(lines)

    __repr__ = __str__


def update_ratio_check(model, loss_fn, optimizer, x, y, steps=1, low=1e-6, high=1e-1):
    """Take `steps` optimiser steps on (x, y) and report ||delta p|| / ||p|| per parameter.

    A healthy step moves weights by a small fraction (often around 1e-3); exactly 0 means the
    update never reached the parameters; above `high` the learning rate is too large.
    """
    before = snapshot(model)
    for _ in range(steps):
        model.reset_state()
        loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
        optimizer.step()
    model.reset_state()
    return UpdateRatioReport(update_ratios(model, before), low=low, high=high)


# --- the overfitting test --------------------------------------------------------------------

# One threshold for the whole course (chapters 07 and 08): a correct LSTM(1, 16) memorises one
# sine wave of 60 steps to about 3e-5 in 400 Adam steps (lr 0.01), 30 times below it; gradients
# started from np.random.randn noise stall near 1e-2, ten times above it.
OVERFIT_TARGET = 1e-3
OVERFIT_STEPS = 400


@dataclass
class OverfitReport:
    """Loss per step of training on one small batch; passes if it ends below `target`."""

    losses: list
    target: float

    @property
    def passed(self):
        return bool(np.isfinite(self.losses[-1]) and self.losses[-1] < self.target)

    def __str__(self):
        first, last = self.losses[0], self.losses[-1]
        text = (f"overfitting test {'passed' if self.passed else 'FAILED'}: loss {first:.3g} -> "
                f"{last:.3g} in {len(self.losses)} steps (target < {self.target:g})")
        if not self.passed:
            text += ("\n  a correct model and optimiser memorise one tiny batch; if this fails, "
                     "check that the step changes the weights (update ratios) and that the "
                     "gradients are right (gradient check)")
        return text

    __repr__ = __str__


def overfit_test(model, loss_fn, optimizer, x, y, steps=OVERFIT_STEPS, target=OVERFIT_TARGET,
                 clip=None):
    """Train on the single batch (x, y) for `steps` full-batch steps; report the losses.
    Passes if the last loss is below `target` (the course's threshold by default)."""
    from .optim import clip_grad_norm

    losses = []
    for _ in range(steps):
        model.reset_state()
        loss = loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
        if clip:
            clip_grad_norm(model, clip)
        optimizer.step()
        losses.append(float(loss))
        if not np.isfinite(loss):
            break
    model.reset_state()
    return OverfitReport(losses, target)


# --- repeatability ---------------------------------------------------------------------------

@dataclass
class RepeatReport:
    differences: dict

    @property
    def passed(self):
        return all(d == 0.0 for d in self.differences.values())

    def __str__(self):
        if self.passed:
            return "repeatability check passed: two backward passes give identical gradients"
        worst = max(self.differences, key=self.differences.get)
        return (f"repeatability check FAILED: gradients differ between two identical backward "
                f"passes (most in {worst}, by {self.differences[worst]:.2g}): something random "
                f"or left over from an earlier call leaks into the gradient (initialise "
                f"gradients with zeros)")

    __repr__ = __str__


def repeatability_check(layer, x, seed=0):
    """Run forward+backward twice on the same input and compare the gradients exactly."""
    layer = copy.deepcopy(layer)
    dh = None
    grads = []
    for _ in range(2):
        layer.reset_state()
        out = layer.forward(x)
        if dh is None:
            dh = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
        layer.backward(dh)
        grads.append({k: g.copy() for k, g in layer.grads.items()})
    return RepeatReport({k: float(np.max(np.abs(grads[0][k] - grads[1][k]))) for k in grads[0]})


# --- memory of truncated BPTT ----------------------------------------------------------------

def stored_activations(layer, x):
    """How many numbers a fresh copy of the recurrent `layer` keeps after forward(x) for its
    backward pass: the per-time-step arrays it saves (inputs, states, gate values), counted
    element by element; scratch space reused at every step is not counted. Grows linearly
    with the window length. Reads the layer's `saved_arrays()` (lstm_lib's RNN, LSTM, GRU)
    or, for other layers, every array in what forward cached."""
    layer = copy.deepcopy(layer)
    layer.reset_state()
    layer.forward(x)
    if hasattr(layer, "saved_arrays"):
        return sum(arr.size for arr in layer.saved_arrays().values())
    total = 0
    stack = [getattr(layer, "_cache", None)]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            total += item.size
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return total
