"""Numerically stable activations: never overflow, exact 0/1 limits."""
import numpy as np


def sigmoid(x):
    """Logistic function 1 / (1 + exp(-x)), computed without overflow.

    For x >= 0 it uses 1 / (1 + exp(-x)); for x < 0 it uses exp(x) / (1 + exp(x)),
    so exp never sees a large positive argument. sigmoid(1000) == 1.0, sigmoid(-1000) == 0.0,
    and both tails keep their accuracy (sigmoid(-40) is 4.2e-18, not 0). The one sigmoid of
    the package; the fast layers compute the same function as 0.5 * tanh(0.5 x) + 0.5, so that
    one tanh call covers all gates (`lstm.gate_scale`).
    """
    x = np.asarray(x)
    out = np.empty_like(x, dtype=np.result_type(x, np.float32))
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def tanh(x):
    """Hyperbolic tangent (NumPy's is already stable: tanh(+-1000) == +-1)."""
    return np.tanh(x)


def softmax(x, axis=-1):
    """Softmax along `axis`, shifted by the max so exp never overflows."""
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """log(softmax(x)) without forming softmax: x - max - log(sum(exp(x - max)))."""
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def sigmoid_grad(s):
    """Derivative of the sigmoid, given its output s: s * (1 - s)."""
    return s * (1.0 - s)


def tanh_grad(t):
    """Derivative of tanh, given its output t: 1 - t**2."""
    return 1.0 - t * t
