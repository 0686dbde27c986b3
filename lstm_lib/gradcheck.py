"""Numerical gradient check: central differences in float64 against a layer's backward."""
import copy
from dataclasses import dataclass, field

import numpy as np


@dataclass
class GradCheckReport:
    """Worst relative error per parameter (and 'input'); `passed` compares to `tol`."""

    errors: dict = field(default_factory=dict)
    tol: float = 1e-6

    @property
    def worst(self):
        name = max(self.errors, key=self.errors.get)
        return name, self.errors[name]

    @property
    def passed(self):
        return all(e < self.tol for e in self.errors.values())

    def __str__(self):
        lines = [f"  {k:<8} {v:.2e}  {'ok' if v < self.tol else 'FAIL'}"
                 for k, v in self.errors.items()]
        name, err = self.worst
        verdict = "passed" if self.passed else f"FAILED: worst is {name} ({err:.2e})"
        return "gradient check " + verdict + f" (tol {self.tol:g})\n" + "\n".join(lines)

    __repr__ = __str__


def relative_error(analytic, numeric):
    """Worst elementwise |a - n| / max(|a| + |n|, 1e-8 + 1e-3 * max|n|).

    The floor keeps entries that are zero up to rounding from dominating, while any
    mistake of a size that matters still shows."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    if a.shape != n.shape:
        raise ValueError(f"gradient has shape {a.shape}, expected {n.shape}")
    if a.size == 0:
        return 0.0
    floor = 1e-8 + 1e-3 * np.abs(n).max()
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)))


def numerical_gradient(f, x, eps=1e-5):
    """dF/dx by central differences, one element at a time; x is changed and restored."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * eps)
    return grad


def gradient_check(layer, x, *, tol=1e-6, eps=1e-5, seed=0, check_input=True, **forward_kwargs):
    """Check `layer.backward` against central differences, in float64.

    The scalar checked is L = sum(forward(x) * R) with a fixed random R, so backward(R) must
    return dL/dx and fill grads with dL/dparam. Works on a float64 copy; the layer is left as
    it was. `forward_kwargs` (for example h0=..., c0=...) are passed to forward.
    Returns a GradCheckReport: worst relative error for each parameter and for 'input'.
    """
    layer = copy.deepcopy(layer).astype(np.float64)
    layer.reset_state()
    x = np.array(x, dtype=np.float64) if check_input else np.asarray(x)  # ids stay integers
    kwargs = {k: np.array(v, np.float64) for k, v in forward_kwargs.items()}
    R = np.random.default_rng(seed).standard_normal(layer.forward(x, **kwargs).shape)

    def loss():
        layer.reset_state()
        return float(np.sum(layer.forward(x, **kwargs) * R))

    loss()
    dx = layer.backward(R)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    report = GradCheckReport(tol=tol)
    for name, p in layer.params.items():
        report.errors[name] = relative_error(grads[name], numerical_gradient(loss, p, eps))
    if check_input:
        report.errors["input"] = relative_error(dx, numerical_gradient(loss, x, eps))
    for name, v in kwargs.items():
        idx = list(forward_kwargs).index(name)
        if getattr(layer, "dstate0", None) is not None and idx < len(layer.dstate0):
            report.errors[name] = relative_error(layer.dstate0[idx], numerical_gradient(loss, v, eps))
    return report


def loss_gradient_check(loss_fn, pred, target, *, tol=1e-6, eps=1e-5):
    """Check a loss's backward() (gradient w.r.t. pred) against central differences."""
    pred = np.array(pred, dtype=np.float64)
    loss_fn.forward(pred, target)
    analytic = loss_fn.backward()
    numeric = numerical_gradient(lambda: loss_fn.forward(pred, target), pred, eps)
    return GradCheckReport(errors={"input": relative_error(analytic, numeric)}, tol=tol)
