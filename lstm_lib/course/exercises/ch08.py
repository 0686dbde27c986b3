"""Self-checks for chapter 08 (debugging): find the bug in hidden layers, and build the
parameter-update ratio, the tool that catches an optimiser which never reaches some weights."""
import functools

import numpy as np

from ... import diagnostics
from ...gradcheck import gradient_check
from ...lstm import LSTM
from ..mystery_bugs import MYSTERIES
from ..selfcheck import Mistake, self_check

METHODS = ("step", "gates_backward", "input_grad", "carry", "new_grad")
_X = np.random.default_rng(0).standard_normal((2, 5, 3))  # batch 2, time 5, input 3 (hidden 4)
_STATE = {"h0": np.full((2, 4), 0.3), "c0": np.full((2, 4), -0.2)}  # a non-zero initial state


@functools.cache
def evidence(name):
    """What the chapter's tools say about mystery layer `name` (float64, sizes all different):
    is its forward the same as lstm_lib.LSTM's on the same weights; which arrays (weights and
    'input') fail the gradient check with one and with five time steps, from a non-zero
    initial state; are two backward passes identical."""
    cls = MYSTERIES[name]
    trusted = LSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(2))
    failing = {}
    for T in (1, 5):
        report = gradient_check(cls(3, 4, dtype=np.float64), _X[:, :T], **_STATE)
        failing[T] = {k for k, e in report.errors.items() if e >= report.tol and k not in _STATE}
    return {
        "forward_right": bool(np.allclose(cls.from_layer(trusted).forward(_X), trusted.forward(_X))),
        "fails_1_step": failing[1],
        "fails_5_steps": failing[5],
        "repeatable": diagnostics.repeatability_check(cls(3, 4), _X.astype(np.float32)).passed,
    }


def why_not(method, ev):
    """The evidence that rules `method` out for a layer with evidence `ev`, or None."""
    weights_wrong = bool(ev["fails_1_step"] - {"input"} or ev["fails_5_steps"] - {"input"})
    input_wrong = "input" in ev["fails_5_steps"]
    if method == "step" and ev["forward_right"]:
        return ("its forward pass gives exactly what lstm_lib.LSTM gives on the same weights, "
                "so step() computes the right thing")
    if method != "step" and not ev["forward_right"]:
        return ("its forward pass already differs from lstm_lib.LSTM's on the same weights; "
                f"{method} is only used by the backward pass")
    if method == "gates_backward":
        if not ev["fails_1_step"]:
            return ("with one time step the gradient check passes, but gates_backward runs at "
                    "every step, so a mistake in it shows up on one step already")
        if not weights_wrong:
            return ("only the input gradient is wrong; a mistake in gates_backward changes dz, and "
                    "the weight gradients are made from dz too")
    if method == "input_grad":
        if weights_wrong:
            return ("the weight gradients are wrong too, and input_grad only computes dx")
        if not input_wrong:
            return "the input gradient passes the gradient check"
    if method == "carry":
        if ev["fails_1_step"]:
            return ("the gradient check fails already with one time step, where nothing is "
                    "carried back to an earlier step")
        if not ev["fails_5_steps"]:
            return "the gradient check passes with five time steps, so dc reaches back fine"
    if method == "new_grad":
        if input_wrong:
            return ("the input gradient is wrong too, and dx is not one of the sums that "
                    "new_grad starts")
        if ev["repeatable"] and not weights_wrong:
            return ("the weight gradients pass the check and two backward passes agree, so "
                    "the sums start where they should")
    return None


@self_check("each diagnosis agrees with what the tools measure.")
def check_diagnosis(answer):
    """`answer`: dict mystery name ('A', 'B', 'C', 'D') -> the method of ReferenceLSTM that
    holds its bug, one of METHODS."""
    if not isinstance(answer, dict):
        raise Mistake(f"answer should be a dict like {{'A': 'step', ...}}, got {type(answer).__name__}")
    for name in MYSTERIES:
        if name not in answer:
            raise Mistake(f"no diagnosis for mystery {name}")
        method = answer[name]
        if method is None:
            raise Mistake(f"mystery {name}: replace None with one of {', '.join(METHODS)}")
        if method not in METHODS:
            raise Mistake(f"mystery {name}: {method!r} is not one of {', '.join(METHODS)}")
        reason = why_not(method, evidence(name))
        if reason:
            raise Mistake(f"mystery {name} is not in {method}: {reason}")


# --- exercise 2: the update ratio of one optimiser step ------------------------------------

class _CountingLoss:
    """MSE that counts its forward calls (did the learner compute a gradient at all?)."""

    def __init__(self):
        from ...losses import MSELoss

        self.inner, self.calls = MSELoss(), 0

    def forward(self, pred, target):
        self.calls += 1
        return self.inner.forward(pred, target)

    def backward(self):
        return self.inner.backward()


TINY = "SGD with a tiny learning rate (1e-7, float64)"


def _cases():
    """(description, model-maker, optimiser-maker) for the checker's four situations."""
    from ...base import Sequential
    from ...layers import Linear
    from ...optim import SGD, Adam
    from ..planted_bugs import NoStepSGD, readout_only_adam

    def model(dtype=np.float32):
        rng = np.random.default_rng(3)
        return Sequential(LSTM(1, 5, dtype=dtype, rng=rng), Linear(5, 1, dtype=dtype, rng=rng))

    return [("a correct Adam", model, lambda m: Adam(m, lr=0.01)),
            (TINY, lambda: model(np.float64), lambda m: SGD(m, lr=1e-7)),
            ("an optimiser built from the read-out only", model, readout_only_adam),
            ("NoStepSGD", model, lambda m: NoStepSGD(m, lr=0.1))]


def _ratios(before, after, grads=None, lr=None, denominator="before", norm=np.linalg.norm):
    """||after - before|| / ||before|| per name (a zero `before`: inf if moved, else 0), or one
    of the typical mistakes: the size after the step as denominator, the gradient (or lr times
    the gradient) in place of the step, the mean absolute value in place of the norm."""
    out = {}
    for k, p0 in before.items():
        p0, p1 = np.asarray(p0, np.float64), np.asarray(after[k], np.float64)
        step = norm(p1 - p0) if grads is None else (lr or 1.0) * norm(np.asarray(grads[k], np.float64))
        size = norm(p1 if denominator == "after" else p0)
        out[k] = step / size if size > 0 else (np.inf if step > 0 else 0.0)
    return out


def _same(got, want):
    return set(got) == set(want) and all(
        (got[k] == want[k]) if not np.isfinite(want[k]) or want[k] == 0 else
        bool(np.isclose(got[k], want[k], rtol=1e-4, atol=0)) for k in want)


@self_check("||p_after - p_before|| / ||p_before|| for every array, from copies taken before the step.")
def check_update_ratios(fn):
    """`fn(model, loss_fn, optimizer, x, y)` takes one training step (forward, backward,
    optimizer.step()) and returns {name: ||p_after - p_before|| / ||p_before||}, with inf for a
    parameter that was exactly zero and moved, 0.0 for one that did not move."""
    x = np.sin(0.3 * np.arange(13, dtype=np.float32))[None, :, None]
    x, y = x[:, :-1], x[:, 1:]  # (1, 12, 1)
    for what, make_model, make_opt in _cases():
        m = make_model()
        before = {k: p.copy() for k, p in m.params.items()}
        loss, opt = _CountingLoss(), make_opt(m)
        try:
            with np.errstate(all="ignore"):
                got = fn(m, loss, opt, x.copy(), y.copy())
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
            raise Mistake(f"with {what}, your function raised {type(exc).__name__}: {exc}")
        if not isinstance(got, dict):
            raise Mistake(f"return a dict name -> ratio (like {{'0.W_x': 0.003, ...}}), got {type(got).__name__}")
        if set(got) != set(m.params):
            raise Mistake(f"return one ratio for every parameter: {sorted(m.params)}, got {sorted(got)}")
        if loss.calls == 0:
            raise Mistake("take a real step: forward and backward first, so the optimiser has a "
                          "gradient (with zero gradients nothing moves)")
        try:
            got = {k: float(v) for k, v in got.items()}
        except (TypeError, ValueError):
            raise Mistake("each ratio should be one number")
        after = {k: p.copy() for k, p in m.params.items()}
        want = _ratios(before, after)
        if _same(got, want):
            continue
        if any(np.isnan(v) for v in got.values()):
            zero = [k for k, p in before.items() if not np.any(p)]
            raise Mistake(f"a ratio is NaN: {', '.join(zero)} started at exactly 0 and has no size to "
                          f"compare with; return inf if it moved and 0.0 if it did not")
        if all(v == 0.0 for v in got.values()) and any(v > 0 for v in want.values()):
            raise Mistake(f"with {what} you report that nothing moved: your 'before' probably holds the "
                          f"live arrays (model.params hands out the arrays themselves, and the optimiser "
                          f"changes them in place); copy each one (p.copy()) before the step")
        grads = dict(m.grads.items())
        known = [
            ({"denominator": "after"},
             ("you divide by the size after the step; the ratio compares the step with the "
              "parameter as it was before it")),
            ({"grads": grads},
             ("that is ||gradient|| / ||p||: the ratio is about the step the optimiser took, "
              "p_after - p_before, not about the gradient")),
            ({"grads": grads, "lr": getattr(opt, "lr", None)},
             ("lr * ||gradient|| is the step of plain SGD only; Adam's step is not lr * g: "
              "measure p_after - p_before")),
            ({"norm": lambda a: float(np.mean(np.abs(a)))},
             ("use the norm of the whole array, np.linalg.norm (the square root of the sum of "
              "squares), not the mean absolute value")),
        ]
        for kwargs, message in known:
            if _same(got, _ratios(before, after, **kwargs)):
                raise Mistake(message)
        moved_zero = [k for k, p in before.items() if not np.any(p) and want[k] == np.inf and got[k] != np.inf]
        if moved_zero:
            raise Mistake(f"{', '.join(moved_zero)} started at exactly 0 and moved: its ratio is inf "
                          f"(no size of its own to compare with), you gave {got[moved_zero[0]]:g}")
        k = next(k for k in want if not _same({k: got[k]}, {k: want[k]}))
        raise Mistake(f"with {what}, {k}: your ratio {got[k]:.3g}, expected {want[k]:.3g}")
