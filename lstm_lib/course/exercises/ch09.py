"""Self-checks for chapter 09 (the GRU): the backward step of Cho et al.'s original GRU, a GRU
as big as a given LSTM, and the update-gate bias for a wanted half-life."""
from typing import NamedTuple

import numpy as np

from ...activations import sigmoid, sigmoid_grad, tanh_grad
from ..selfcheck import Mistake, expect_array, expect_finite, expect_shape, self_check
from .ch01 import call

# --- exercise 1: the backward step of Cho et al.'s GRU -------------------------------------

CHO_NAMES = ("dx", "dh_prev", "dW_x", "dW_h", "db")


class ChoCache(NamedTuple):
    """What cho_step keeps for its backward."""

    x: np.ndarray  # (batch, input)
    h_prev: np.ndarray  # (batch, H)
    r: np.ndarray  # reset gate
    z: np.ndarray  # update gate
    n: np.ndarray  # candidate
    s: np.ndarray  # r * h_prev: what the candidate's recurrent weights multiply
    W_x: np.ndarray  # (input, 3H)
    W_h: np.ndarray  # (H, 3H)


def cho_step(x, h_prev, W_x, W_h, b):
    """One step of the GRU as Cho et al. (2014) wrote it: the reset scales the state *before*
    the candidate's matrix product, and there is one bias per block (no b_hn).

        r = sigmoid(x W_xr + h_prev W_hr + b_r)   z = sigmoid(x W_xz + h_prev W_hz + b_z)
        s = r * h_prev
        n = tanh(x W_xn + s W_hn + b_n)
        h = (1 - z) * n + z * h_prev
    Returns h and a ChoCache."""
    H = h_prev.shape[1]
    gx = x @ W_x + b  # (batch, 3H)
    r = sigmoid(gx[:, :H] + h_prev @ W_h[:, :H])
    z = sigmoid(gx[:, H:2 * H] + h_prev @ W_h[:, H:2 * H])
    s = r * h_prev
    n = np.tanh(gx[:, 2 * H:] + s @ W_h[:, 2 * H:])
    return (1 - z) * n + z * h_prev, ChoCache(x, h_prev, r, z, n, s, W_x, W_h)


def cho_inputs(seed=9, B=3, I=2, H=4):
    """x, h_prev, W_x, W_h, b of one Cho step (all sizes different) and the gradient dh at h."""
    rng = np.random.default_rng(seed)
    x, h_prev = rng.standard_normal((B, I)), rng.uniform(-1, 1, (B, H))
    W_x, W_h = rng.standard_normal((I, 3 * H)) * 0.6, rng.standard_normal((H, 3 * H)) * 0.6
    return (x, h_prev, W_x, W_h, rng.standard_normal(3 * H) * 0.3), rng.standard_normal((B, H))


def cho_backward(dh, cache, torch_form=False, reset_into_h=True, reset_into_dW=True, direct=True,
                 through_tanh=True):
    """The Cho step backward; the switches plant the typical mistakes (defaults: correct).
    Returns dx, dh_prev, dW_x, dW_h, db."""
    x, h_prev, r, z, n, s, W_x, W_h = cache
    H = h_prev.shape[1]
    W_hn = W_h[:, 2 * H:]
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    dan = dn * tanh_grad(n) if through_tanh else dn
    if torch_form:  # torch's candidate r * (h_prev W_hn) differentiated instead
        dr = dan * (h_prev @ W_hn)
        dh_cand = (dan * r) @ W_hn.T
        dW_hn = h_prev.T @ (dan * r)
    else:
        ds = dan @ W_hn.T  # (batch, H): gradient at s = r * h_prev
        dr = ds * h_prev
        dh_cand = ds * r if reset_into_h else ds
        dW_hn = (s if reset_into_dW else h_prev).T @ dan
    dar, daz = dr * sigmoid_grad(r), dz * sigmoid_grad(z)
    dG = np.concatenate([dar, daz, dan], axis=1)  # (batch, 3H)
    dgates = np.concatenate([dar, daz], axis=1)  # (batch, 2H): r and z read h_prev directly
    dh_prev = dgates @ W_h[:, :2 * H].T + dh_cand + (dh * z if direct else 0)
    dW_h = np.concatenate([h_prev.T @ dgates, dW_hn], axis=1)
    return dG @ W_x.T, dh_prev, x.T @ dG, dW_h, dG.sum(axis=0)


def _all_close(got, want):
    return all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, want))


@self_check("all five gradients of Cho's GRU step are right: the reset sits between h_prev and "
            "W_hn, so it is in dh_prev, in dr and in dW_hn.")
def check_cho_backward(fn):
    """`fn(dh, cache)` with cache from cho_step must return (dx, dh_prev, dW_x, dW_h, db)."""
    args, dh = cho_inputs()
    _, cache = cho_step(*args)
    result = call(fn, dh.copy(), cache, name="your backward step")
    if not isinstance(result, (tuple, list)) or len(result) != 5:
        raise Mistake("return five arrays: dx, dh_prev, dW_x, dW_h, db")
    ref = cho_backward(dh, cache)
    got = [expect_shape(r, np.shape(e), n) for r, e, n in zip(result, ref, CHO_NAMES)]
    for g, n in zip(got, CHO_NAMES):
        expect_finite(g, n)
    if _all_close(got, ref):
        return
    known = [
        ({"torch_form": True}, ("that is the backward of torch's candidate r * (h_prev W_hn). Here the "
                                "reset scales h_prev before the product: with s = r * h_prev, "
                                "ds = da_n @ W_hn.T, then dr = ds * h_prev, dh_prev gets ds * r, and "
                                "dW_hn = s.T @ da_n")),
        ({"reset_into_h": False}, ("dh_prev through the candidate must pass the reset on the way back: "
                                   "s = r * h_prev, so it gets ds * r, not ds")),
        ({"reset_into_dW": False}, ("W_hn multiplies s = r * h_prev, not h_prev: dW_hn = s.T @ da_n "
                                    "(cache.s)")),
        ({"reset_into_h": False, "reset_into_dW": False},
         "the reset is missing twice: dh_prev gets ds * r, and dW_hn = (r * h_prev).T @ da_n"),
        ({"direct": False}, ("the direct path is missing: h = (1 - z) * n + z * h_prev gives "
                             "dh_prev += dh * z")),
        ({"through_tanh": False}, "the candidate's tanh derivative is missing: da_n = dn * (1 - n**2)"),
    ]
    for kwargs, message in known:
        if _all_close(got, cho_backward(dh, cache, **kwargs)):
            raise Mistake(message)
    swapped = cho_backward(dh, cache._replace(z=1 - cache.z))
    if _all_close(got, swapped):
        raise Mistake("z and 1 - z are swapped: dn = dh * (1 - z) and the direct path is dh * z")
    wrong = [n for a, e, n in zip(got, ref, CHO_NAMES) if not np.allclose(a, e, atol=1e-8)]
    hints = {"dx": "dx = dG @ W_x.T with dG = [da_r, da_z, da_n]",
             "dh_prev": "dh_prev = dh * z + [da_r, da_z] @ W_h[:, :2H].T + ds * r",
             "dW_x": "dW_x = x.T @ dG", "db": "db = dG.sum(axis=0)",
             "dW_h": "dW_h = [h_prev.T @ [da_r, da_z], s.T @ da_n]"}
    raise Mistake(f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong; "
                  f"start with {wrong[0]}: {hints[wrong[0]]}")


# --- exercise 2: a GRU as big as an LSTM ----------------------------------------------------

def lstm_params(I, H):
    """Parameters of L.LSTM(I, H): W_x (I, 4H), W_h (H, 4H), one fused bias (4H,)."""
    return 4 * H * (I + H + 1)


def gru_params(I, H):
    """Parameters of L.GRU(I, H): W_x (I, 3H), W_h (H, 3H), fused bias (3H,) and b_hn (H,)."""
    return 3 * H * (I + H + 1) + H


def closest_hidden(target, count):
    """The smallest H >= 1 whose count(H) is closest to `target`."""
    H = 1
    while count(H + 1) <= target:
        H += 1
    return H if target - count(H) <= count(H + 1) - target else H + 1


def gru_hidden_like_lstm(input_size, lstm_hidden):
    """The GRU hidden size whose L.GRU parameter count is closest to L.LSTM(input_size,
    lstm_hidden)'s (the smaller one on a tie)."""
    return closest_hidden(lstm_params(input_size, lstm_hidden), lambda H: gru_params(input_size, H))


MATCH_CASES = ((2, 32), (1, 3), (1, 4), (1, 15), (3, 8), (10, 20), (32, 128))


def _below(I, H):
    """The largest GRU not above the LSTM (a typical mistake: not the closest)."""
    k = gru_hidden_like_lstm(I, H)
    return k - 1 if gru_params(I, k) > lstm_params(I, H) else k


MATCH_MISTAKES = (
    (lambda I, H: round(4 * H / 3),
     ("4/3 of the LSTM's hidden size matches the weights per unit only when H is large: the "
      "parameters grow like H * (I + H + 1), so compare gru_params(I, H) with lstm_params(I, lstm_hidden)")),
    (lambda I, H: closest_hidden(4 * H * (I + H + 2), lambda k: 3 * k * (I + k + 2)),
     ("those are torch's counts (two bias vectors per block); count lstm_lib's: one fused bias, plus "
      "b_hn (H) for the GRU")),
    (lambda I, H: closest_hidden(lstm_params(I, H), lambda k: 3 * k * (I + k + 1)),
     "the GRU's count is missing b_hn: lstm_lib keeps it apart, H more parameters"),
    (_below, ("that is the largest GRU not above the LSTM; the closest one can be one unit larger: "
              "compare both neighbours")),
)


@self_check("those GRUs have as many parameters as their LSTMs as a whole number of units can.")
def check_gru_hidden_like_lstm(fn):
    """`fn(input_size, lstm_hidden)` returns the hidden size of the GRU whose lstm_lib parameter
    count is closest to that LSTM's."""
    answers = []
    for I, H in MATCH_CASES:
        got = call(fn, I, H, name="your function")
        value = expect_array(got, f"the answer for ({I}, {H})")
        if value.shape != () or value != int(value):
            raise Mistake(f"return one whole number of units, got {got!r} for ({I}, {H})")
        answers.append(int(value))
    right = [gru_hidden_like_lstm(I, H) for I, H in MATCH_CASES]
    if answers == right:
        return
    for wrong, message in MATCH_MISTAKES:
        if answers == [wrong(I, H) for I, H in MATCH_CASES]:
            raise Mistake(message)
    (I, H), got, want = next((c, a, r) for c, a, r in zip(MATCH_CASES, answers, right) if a != r)
    raise Mistake(f"for input {I}, LSTM hidden {H}: the LSTM has {lstm_params(I, H)} parameters; "
                  f"your GRU of {got} units has {gru_params(I, got)}, and one of {want} units "
                  f"has {gru_params(I, want)}")


# --- exercise 3: the update-gate bias for a wanted memory ---------------------------------

def bias_for_half_life(steps):
    """The update-gate bias b_z with sigmoid(b_z) ** steps = 1/2."""
    z = 0.5 ** (1 / steps)
    return float(np.log(z / (1 - z)))


HALF_LIVES = (14.3, 100.0, 1.0, 1000.0)


@self_check("with that bias the unit keeps half of what it stored for exactly that many steps.")
def check_bias_for_half_life(fn):
    """`fn(steps)` returns the update-gate bias b_z whose gate z = sigmoid(b_z) halves a stored
    value in `steps` steps (with the candidate at 0)."""
    for k in HALF_LIVES:
        got = call(fn, k, name="your function")
        value = expect_array(got, f"the bias for {k:g} steps")
        if value.shape != ():
            raise Mistake(f"return one number, got shape {value.shape} for {k:g} steps")
        value, right = float(value), bias_for_half_life(k)
        if np.isclose(value, right, rtol=1e-6, atol=1e-9):
            continue
        z = 0.5 ** (1 / k)
        if np.isclose(value, z, rtol=1e-6):
            raise Mistake(f"{value:.4g} is the gate value z for {k:g} steps; the bias is the "
                          f"pre-activation that gives it: b_z = log(z / (1 - z))")
        if np.isclose(value, -right, rtol=1e-6):
            raise Mistake("the sign is flipped: the fraction kept each step is z itself, not 1 - z "
                          "(h = (1 - z) * n + z * h_prev)")
        lin = 1 - 0.5 / k
        if k > 1 and np.isclose(value, np.log(lin / (1 - lin)), rtol=1e-6):
            raise Mistake("the state decays geometrically, z ** k, not linearly: solve z ** k = 1/2")
        if np.isclose(sigmoid(value) ** k, 0.5, rtol=1e-3):
            continue
        raise Mistake(f"for {k:g} steps: sigmoid({value:.4g}) ** {k:g} = {sigmoid(value) ** k:.3g}, "
                      f"not 1/2")
