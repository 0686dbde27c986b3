"""Readable single-step functions for the RNN, LSTM and GRU cells.

These are the functions the chapters build line by line. Shapes: x (batch, input),
h and c (batch, hidden). Fused weights in PyTorch's gate order:

- RNN:  W_x (input, H),    W_h (H, H),    b (H,)
- LSTM: W_x (input, 4H),   W_h (H, 4H),   b (4H,)   gates i, f, g, o
- GRU:  W_x (input, 3H),   W_h (H, 3H),   b (3H,), b_hn (H,)   gates r, z, n

Each step returns its cache as a named tuple (`cache.f`, `cache.tanh_c`, ...), so code that
reads a gate says which one. `reference.ReferenceLSTM` runs `lstm_step` over a sequence; the
fast sequence layers in rnn.py, lstm.py and gru.py compute exactly the same numbers (the tests
check that).
"""
from typing import NamedTuple

import numpy as np

from .activations import sigmoid, sigmoid_grad, tanh_grad


class RNNStepCache(NamedTuple):
    """What rnn_step keeps for its backward."""

    x: np.ndarray  # (batch, input)
    h_prev: np.ndarray  # (batch, H)
    h: np.ndarray  # (batch, H)
    W_x: np.ndarray
    W_h: np.ndarray


class LSTMStepCache(NamedTuple):
    """What lstm_step keeps for its backward: the inputs, the four gate values and tanh(c)."""

    x: np.ndarray  # (batch, input)
    h_prev: np.ndarray  # (batch, H)
    c_prev: np.ndarray  # (batch, H)
    i: np.ndarray  # input gate, (batch, H)
    f: np.ndarray  # forget gate
    g: np.ndarray  # candidate c~
    o: np.ndarray  # output gate
    tanh_c: np.ndarray  # tanh(c_t)
    W_x: np.ndarray
    W_h: np.ndarray


class GRUStepCache(NamedTuple):
    """What gru_step keeps for its backward."""

    x: np.ndarray  # (batch, input)
    h_prev: np.ndarray  # (batch, H)
    r: np.ndarray  # reset gate
    z: np.ndarray  # update gate
    n: np.ndarray  # candidate
    hn: np.ndarray  # h_prev W_hn + b_hn
    W_x: np.ndarray
    W_h: np.ndarray

# --- vanilla RNN -------------------------------------------------------------------------

def rnn_step(x, h_prev, W_x, W_h, b):
    """h = tanh(x W_x + h_prev W_h + b). Returns h and the cache for rnn_step_backward."""
    h = np.tanh(x @ W_x + h_prev @ W_h + b)  # (batch, H)
    return h, RNNStepCache(x, h_prev, h, W_x, W_h)


def rnn_step_backward(dh, cache):
    """Gradients of one RNN step: returns dx, dh_prev, dW_x, dW_h, db."""
    x, h_prev, h, W_x, W_h = cache
    da = dh * tanh_grad(h)  # (batch, H): through the tanh
    return da @ W_x.T, da @ W_h.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


# --- LSTM --------------------------------------------------------------------------------

def lstm_step(x, h_prev, c_prev, W_x, W_h, b):
    """One LSTM step.

        i, f, o = sigmoid(...)       how much to write, keep, show
        g       = tanh(...)          the candidate c~: what to write
        c = f * c_prev + i * g       the cell-state highway
        h = o * tanh(c)

    Returns h, c and the cache (an LSTMStepCache) for lstm_step_backward.
    """
    H = h_prev.shape[1]
    z = x @ W_x + h_prev @ W_h + b  # (batch, 4H), blocks i, f, g, o
    i = sigmoid(z[:, 0 * H:1 * H])
    f = sigmoid(z[:, 1 * H:2 * H])
    g = np.tanh(z[:, 2 * H:3 * H])
    o = sigmoid(z[:, 3 * H:4 * H])
    c = f * c_prev + i * g  # (batch, H)
    tc = np.tanh(c)
    h = o * tc  # (batch, H)
    return h, c, LSTMStepCache(x, h_prev, c_prev, i, f, g, o, tc, W_x, W_h)


def lstm_gates_backward(dh, dc, cache):
    """The part of an LSTM step's backward that runs through the gates and the cell.

    `dh` and `dc` are the gradients arriving at this step's h and c. Returns dz, the gradient
    with respect to the pre-activations (batch, 4H) in gate order i, f, g, o, and dc_prev.
    """
    do = dh * cache.tanh_c
    dc = dc + dh * cache.o * tanh_grad(cache.tanh_c)  # the cell gets gradient from h and from the next step
    di, df, dg = dc * cache.g, dc * cache.c_prev, dc * cache.i
    dc_prev = dc * cache.f  # along the highway: only a multiply by f
    dz = np.concatenate([di * sigmoid_grad(cache.i), df * sigmoid_grad(cache.f),
                         dg * tanh_grad(cache.g), do * sigmoid_grad(cache.o)], axis=1)  # (batch, 4H)
    return dz, dc_prev


def lstm_step_backward(dh, dc, cache):
    """Gradients of one LSTM step.

    `dh` and `dc` are the gradients arriving at this step's h and c (from the loss and from
    the next step). Returns dx, dh_prev, dc_prev, dW_x, dW_h, db.
    """
    dz, dc_prev = lstm_gates_backward(dh, dc, cache)  # (batch, 4H), (batch, H)
    return (dz @ cache.W_x.T, dz @ cache.W_h.T, dc_prev, cache.x.T @ dz, cache.h_prev.T @ dz,
            dz.sum(axis=0))


# --- GRU ---------------------------------------------------------------------------------

def gru_step(x, h_prev, W_x, W_h, b, b_hn):
    """One GRU step, as torch.nn.GRU computes it:

        r = sigmoid(x W_xr + h_prev W_hr + b_r)       reset gate
        z = sigmoid(x W_xz + h_prev W_hz + b_z)       update gate
        n = tanh(x W_xn + b_n + r * (h_prev W_hn + b_hn))   candidate (reset applied
                                                              after the matrix product)
        h = (1 - z) * n + z * h_prev
    """
    H = h_prev.shape[1]
    gx = x @ W_x + b  # (batch, 3H)
    gh = h_prev @ W_h  # (batch, 3H)
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    hn = gh[:, 2 * H:] + b_hn
    n = np.tanh(gx[:, 2 * H:] + r * hn)
    h = (1 - z) * n + z * h_prev
    return h, GRUStepCache(x, h_prev, r, z, n, hn, W_x, W_h)


def gru_step_backward(dh, cache):
    """Gradients of one GRU step: returns dx, dh_prev, dW_x, dW_h, db, db_hn."""
    x, h_prev, r, z, n, hn, W_x, W_h = cache
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    dan = dn * tanh_grad(n)
    dr = dan * hn
    dhn = dan * r
    dar, daz = dr * sigmoid_grad(r), dz * sigmoid_grad(z)
    dgx = np.concatenate([dar, daz, dan], axis=1)  # (batch, 3H) input side
    dgh = np.concatenate([dar, daz, dhn], axis=1)  # (batch, 3H) hidden side
    dh_prev = dh * z + dgh @ W_h.T
    return dgx @ W_x.T, dh_prev, x.T @ dgx, h_prev.T @ dgh, dgx.sum(axis=0), dhn.sum(axis=0)
