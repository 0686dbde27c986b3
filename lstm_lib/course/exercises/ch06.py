"""Self-checks for chapter 06 (backpropagation through time)."""
import numpy as np

from ...activations import sigmoid_grad, tanh_grad
from ...cells import lstm_step, lstm_step_backward
from ..selfcheck import Mistake, expect_array, expect_shape, self_check

NAMES = ("dx", "dh_prev", "dc_prev", "dW_x", "dW_h", "db")


def step_case(seed=6, B=3, I=2, H=4):
    """(dh, dc, cache) for one LSTM step with all sizes different."""
    rng = np.random.default_rng(seed)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    W_x, W_h = rng.standard_normal((I, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.5
    b = rng.standard_normal(4 * H) * 0.5
    _, _, cache = lstm_step(x, h, c, W_x, W_h, b)
    return rng.standard_normal((B, H)), rng.standard_normal((B, H)), cache


def _variant(dh, dc, cache, carry=True, skip_sigmoid=None, skip_tanh_c=False):
    """The step backward with one classic mistake, to recognise it in an answer."""
    x, h_prev, c_prev, i, f, g, o, tc, W_x, W_h = cache
    do = dh * tc
    dct = dh * o * (1.0 if skip_tanh_c else tanh_grad(tc)) + (dc if carry else 0)
    di, df, dg = dct * g, dct * c_prev, dct * i
    parts = {"i": di * sigmoid_grad(i), "f": df * sigmoid_grad(f), "g": dg * tanh_grad(g),
             "o": do * sigmoid_grad(o)}
    if skip_sigmoid:
        parts[skip_sigmoid] = {"i": di, "f": df, "o": do}[skip_sigmoid]
    dz = np.concatenate([parts[k] for k in "ifgo"], axis=1)
    return dz @ W_x.T, dz @ W_h.T, dct * f, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)


@self_check("all six gradients of your step equal lstm_lib.cells.lstm_step_backward.")
def check_step_backward(fn):
    """`fn(dh, dc, cache)` with cache from lstm_lib.cells.lstm_step must return
    (dx, dh_prev, dc_prev, dW_x, dW_h, db)."""
    dh, dc, cache = step_case()
    try:
        result = fn(dh, dc, cache)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
        raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
    if not isinstance(result, (tuple, list)) or len(result) != 6:
        raise Mistake("return six arrays: dx, dh_prev, dc_prev, dW_x, dW_h, db")
    ref = lstm_step_backward(dh, dc, cache)
    got = [expect_shape(r, np.shape(e), n) for r, e, n in zip(result, ref, NAMES)]
    if all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, ref)):
        return
    known = [
        ({"carry": False}, ("the gradient dc arriving from the next step is not added: "
                           "dc_t = dc_next + dh * o * (1 - tanh(c)^2)")),
        ({"skip_sigmoid": "f"}, "the forget gate's part is missing the sigmoid derivative f * (1 - f)"),
        ({"skip_sigmoid": "i"}, "the input gate's part is missing the sigmoid derivative i * (1 - i)"),
        ({"skip_sigmoid": "o"}, "the output gate's part is missing the sigmoid derivative o * (1 - o)"),
        ({"skip_tanh_c": True}, ("the path from h into c skips the derivative of tanh(c): "
                                "multiply by 1 - tanh(c)^2")),
    ]
    for kwargs, message in known:
        bad = _variant(dh, dc, cache, **kwargs)
        if all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, bad)):
            raise Mistake(message)
    wrong = [n for a, e, n in zip(got, ref, NAMES) if not np.allclose(a, e, atol=1e-8)]
    hints = {"dx": "dx = dz @ W_x.T", "dh_prev": "dh_prev = dz @ W_h.T",
             "dc_prev": "dc_prev = dc_t * f (only along the highway)",
             "dW_x": "dW_x = x.T @ dz", "dW_h": "dW_h = h_prev.T @ dz", "db": "db = dz.sum(axis=0)"}
    raise Mistake(f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong; "
                  f"start with {wrong[0]}: {hints[wrong[0]]}")


FORGET = np.array([0.9, 0.8, 0.95, 0.7, 0.9])


@self_check("along the highway alone, dc is multiplied by each forget gate in turn: the product.")
def check_highway_factor(answer):
    """The factor by which a gradient at c_5 reaches c_0 along the cell path only, when the
    forget gates at steps 1..5 are FORGET (one unit)."""
    value = float(expect_array(answer, "answer"))
    right = float(np.prod(FORGET))
    if np.isclose(value, right, rtol=1e-6):
        return
    if np.isclose(value, FORGET.sum()):
        raise Mistake("you added the forget gates; each step multiplies dc by its f: take the product")
    if np.isclose(value, FORGET[-1]) or np.isclose(value, FORGET[0]):
        raise Mistake("that is one step; the gradient passes through all five forget gates")
    if np.isclose(value, np.prod(FORGET * (1 - FORGET))):
        raise Mistake("no sigmoid derivative here: dc_{t-1} = dc_t * f_t uses the gate value itself")
    raise Mistake(f"{value:.4g} is not it: dc_{{t-1}} = dc_t * f_t, five times")
