"""Self-checks for chapter 07 (training: optimisers and clipping)."""
import numpy as np

from ..selfcheck import Mistake, expect_array, self_check


def _grads(scale):
    rng = np.random.default_rng(7)
    return [rng.standard_normal((3, 8)) * scale, rng.standard_normal((2, 8)) * scale,
            rng.standard_normal(8) * scale]


def _reference_clip(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    coef = min(1.0, max_norm / (total + 1e-6))
    return [g * coef for g in grads]


@self_check("all arrays are scaled by one common factor, and only when the global norm is too big.")
def check_clip(fn):
    """`fn(grads, max_norm)` takes a list of arrays and returns the clipped list (new arrays or
    the same ones changed in place)."""
    for scale, max_norm in ((5.0, 1.0), (0.05, 1.0)):
        grads = _grads(scale)
        originals = [g.copy() for g in grads]
        try:
            out = fn(grads, max_norm)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
            raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
        if out is None:
            out = grads
        if not isinstance(out, (list, tuple)) or len(out) != 3:
            raise Mistake("return the list of clipped gradient arrays, one per input array")
        out = [expect_array(o, "clipped gradient") for o in out]
        ref = _reference_clip(originals, max_norm)
        if all(o.shape == r.shape and np.allclose(o, r, rtol=1e-5, atol=1e-9) for o, r in zip(out, ref)):
            continue
        if scale < 1:
            raise Mistake("the gradients were already below max_norm and must come back unchanged; "
                          "scale only when the global norm is larger than max_norm")
        per_array = [g * min(1.0, max_norm / np.linalg.norm(g)) for g in originals]
        if all(np.allclose(o, p, rtol=1e-5) for o, p in zip(out, per_array)):
            raise Mistake("each array was clipped by its own norm; use ONE norm over all arrays "
                          "together (sqrt of the sum of all squares), so the direction is kept")
        if all(np.allclose(o, np.clip(g, -max_norm, max_norm)) for o, g in zip(out, originals)):
            raise Mistake("np.clip cuts each element separately and changes the direction; scale "
                          "all arrays by max_norm / global_norm instead")
        norm = np.sqrt(sum(np.sum(o * o) for o in out))
        raise Mistake(f"after clipping the global norm is {norm:.3g}; it should be {max_norm:g}")


@self_check("v = mu * v + g, then p = p - lr * v: the same rule as torch.optim.SGD(momentum=0.9).")
def check_momentum_step(fn):
    """`fn(p, g, v, lr, mu)` returns the new (p, v) for one momentum step (v starts at zeros)."""
    rng = np.random.default_rng(8)
    p, v = rng.standard_normal(5), np.zeros(5)
    lr, mu = 0.1, 0.9
    for _ in range(3):
        g = rng.standard_normal(5)
        try:
            result = fn(p.copy(), g.copy(), v.copy(), lr, mu)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
            raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Mistake("return two arrays: the new p and the new v")
        new_p, new_v = (expect_array(r, n) for r, n in zip(result, ("p", "v")))
        v_ref = mu * v + g
        p_ref = p - lr * v_ref
        if np.allclose(new_v, v_ref) and np.allclose(new_p, p_ref):
            p, v = p_ref, v_ref
            continue
        if np.allclose(new_v, mu * v - lr * g) or np.allclose(new_v, mu * v + lr * g):
            raise Mistake("lr is folded into v; in this course (and in torch) v = mu * v + g and "
                          "the step is p - lr * v")
        if np.allclose(new_v, (1 - mu) * v + g) or np.allclose(new_v, v + mu * g):
            raise Mistake("mu multiplies the OLD velocity: v = mu * v + g")
        if np.allclose(new_v, v_ref) and np.allclose(new_p, p - lr * g):
            raise Mistake("p moved by the plain gradient step; move it by the velocity: p - lr * v")
        if np.allclose(new_p, p + lr * v_ref):
            raise Mistake("the step goes uphill: subtract, p - lr * v")
        raise Mistake("v should be mu * v + g and p should be p - lr * v")
