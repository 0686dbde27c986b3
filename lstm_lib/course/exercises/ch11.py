"""Self-checks for chapter 11 (a character language model)."""
import numpy as np

from ...text import temperature_probs
from ..selfcheck import Mistake, expect_array, self_check

# Exercise 1: the probabilities a model gave to the characters that actually came next.
TRUE_NEXT_PROBS = np.array([0.5, 0.25, 0.8, 0.1, 0.5])


def _bpc_and_ppl(p):
    nll = -np.mean(np.log(p))
    return nll / np.log(2), np.exp(nll)


@self_check("right: bits per character and perplexity are two views of one number.")
def check_bpc_perplexity(answer, probs=TRUE_NEXT_PROBS):
    """Exercise 1: answer = (bits per character, perplexity) for `probs`, the probabilities
    the model assigned to the true next characters."""
    try:
        bpc, ppl = (float(v) for v in answer)
    except (TypeError, ValueError):
        raise Mistake("give a pair of numbers: (bits_per_char, perplexity)")
    p = np.asarray(probs, np.float64)
    right_bpc, right_ppl = _bpc_and_ppl(p)
    if np.isclose(bpc, right_bpc, rtol=1e-4) and np.isclose(ppl, right_ppl, rtol=1e-4):
        return
    nll = -np.mean(np.log(p))
    if np.isclose(bpc, nll, rtol=1e-4):
        raise Mistake(f"{bpc:.4f} is the loss in nats; bits per character divide it by ln 2")
    if np.isclose(bpc, -np.mean(np.log10(p)), rtol=1e-4):
        raise Mistake("that is log base 10; bits use log base 2")
    if np.isclose(bpc, -right_bpc, rtol=1e-4):
        raise Mistake("the sign is flipped: the loss is the *negative* mean log-probability")
    if np.isclose(bpc, -np.log2(p.mean()), rtol=1e-4):
        raise Mistake("you took the log of the mean probability; take the mean of the logs")
    if not np.isclose(bpc, right_bpc, rtol=1e-4):
        raise Mistake(f"bits per character {bpc:.4g} is off: -mean(log2 p)")
    if np.isclose(ppl, np.exp(right_bpc), rtol=1e-4):
        raise Mistake("perplexity is 2 ** (bits per char), or e ** (nats per char); you mixed the two")
    if np.isclose(ppl, 1 / p.mean(), rtol=1e-4):
        raise Mistake("perplexity is not 1 / mean probability: it is 1 / the geometric mean, "
                      "exp(-mean(log p))")
    raise Mistake(f"perplexity {ppl:.4g} is off: exp(-mean(ln p)) = 2 ** bits_per_char")


@self_check("your temperature softmax matches, including the limit at temperature 0.")
def check_temperature(apply_temperature):
    """Exercise 2: apply_temperature(logits (V,), temperature) -> probabilities (V,);
    temperature 0 must give the one-hot of the argmax."""
    if not callable(apply_temperature):
        raise Mistake("pass the function itself, e.g. check_temperature(apply_temperature)")
    logits = np.array([2.0, 1.0, 0.5, -1.0, 3.0])
    for T in (1.0, 0.5, 2.0):
        p = expect_array(apply_temperature(logits.copy(), T), "probabilities")
        if p.shape != logits.shape:
            raise Mistake(f"the result has shape {p.shape}, expected {logits.shape}")
        if not np.isclose(p.sum(), 1):
            raise Mistake(f"at temperature {T} the probabilities sum to {p.sum():.4f}, not 1: "
                          f"normalise with a softmax")
        if not np.allclose(p, temperature_probs(logits, T), atol=1e-6):
            if np.allclose(p, temperature_probs(logits * T, 1.0), atol=1e-6):
                raise Mistake("you multiplied the logits by the temperature; divide them: "
                              "softmax(logits / T)")
            if np.allclose(p, temperature_probs(logits, 1.0) ** (1 / T) /
                           (temperature_probs(logits, 1.0) ** (1 / T)).sum(), atol=1e-6):
                return  # p ** (1/T), renormalised, is the same distribution
            raise Mistake(f"at temperature {T} the probabilities differ from softmax(logits / T)")
    try:
        p0 = expect_array(apply_temperature(logits.copy(), 0.0), "probabilities")
    except ZeroDivisionError:
        raise Mistake("temperature 0 divides by zero: handle it as the limit, the one-hot of "
                      "the argmax")
    if not np.isfinite(p0).all():
        raise Mistake("at temperature 0 the result has NaN or inf: handle T = 0 separately, as "
                      "the one-hot of the argmax")
    if not np.allclose(p0, np.eye(5)[4]):
        raise Mistake("at temperature 0 all probability must go to the largest logit")
