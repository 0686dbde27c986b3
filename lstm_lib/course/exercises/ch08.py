"""Self-checks for chapter 08 (debugging): find the bug in hidden layers, and build the check
that catches an optimiser which never reaches some parameters."""
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


# --- exercise 2: which parameters does one optimiser step leave untouched? -----------------

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
    """(description, model, optimiser-maker, frozen names) for the checker's three situations."""
    from ...base import Sequential
    from ...layers import Linear
    from ...optim import SGD, Adam
    from ..planted_bugs import NoStepSGD, readout_only_adam

    def model(dtype=np.float32):
        rng = np.random.default_rng(3)
        return Sequential(LSTM(1, 5, dtype=dtype, rng=rng), Linear(5, 1, dtype=dtype, rng=rng))

    lstm_names = ["0.W_x", "0.W_h", "0.b"]
    every = lstm_names + ["1.W", "1.b"]
    return [("a correct Adam", model, lambda m: Adam(m, lr=0.01), []),
            (TINY, lambda: model(np.float64), lambda m: SGD(m, lr=1e-7), []),
            ("an optimiser built from the read-out only", model, readout_only_adam, lstm_names),
            ("NoStepSGD", model, lambda m: NoStepSGD(m, lr=0.1), every)]


@self_check("one exact comparison per parameter, against copies taken before the step.")
def check_frozen_parameters(fn):
    """`fn(model, loss_fn, optimizer, x, y)` takes one training step (forward, backward,
    optimizer.step()) and returns the sorted list of parameter names whose arrays did not
    change at all."""
    x = np.sin(0.3 * np.arange(13, dtype=np.float32))[None, :, None]
    x, y = x[:, :-1], x[:, 1:]  # (1, 12, 1)
    results = []  # (what, returned, right answer, every name)
    for what, make_model, make_opt, frozen in _cases():
        m = make_model()
        loss = _CountingLoss()
        try:
            got = fn(m, loss, make_opt(m), x.copy(), y.copy())
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
            raise Mistake(f"with {what}, your function raised {type(exc).__name__}: {exc}")
        if not isinstance(got, (list, tuple)) or not all(isinstance(k, str) for k in got):
            raise Mistake(f"return a list of parameter names (like ['0.W_x']), got {got!r}")
        if loss.calls == 0:
            raise Mistake("take a real step: forward and backward first, so the optimiser has a "
                          "gradient (with zero gradients nothing moves and everything looks frozen)")
        results.append((what, sorted(got), sorted(frozen), sorted(m.params)))
    wrong = [r for r in results if r[1] != r[2]]
    if not wrong:
        return
    if all(got == every for _, got, _, every in results):
        raise Mistake("you report every parameter as frozen, even under a correct Adam: your "
                      "'before' probably holds the live arrays (model.params hands out the arrays "
                      "themselves); copy each one (p.copy()) before the step")
    if all(got == sorted(set(every) - set(frozen)) for _, got, frozen, every in results):
        raise Mistake("that is the list of parameters that moved; return the ones that did not")
    if [r[0] for r in wrong] == [TINY]:
        raise Mistake(f"with {TINY} every parameter moves (by less than 1e-7 of its size), and you "
                      "call some frozen: compare exactly (np.array_equal); a tolerance like "
                      "np.allclose hides small steps")
    what, got, frozen, _ = wrong[0]
    raise Mistake(f"with {what} the frozen parameters are {frozen}, you returned {got}")
