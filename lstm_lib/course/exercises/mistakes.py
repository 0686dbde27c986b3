"""One LSTM step with the usual slips as switches, for the checkers that recognise them.

The checkers of chapters 02, 05, 13 and 14 compare a learner's step with the right one and,
when it differs, with the step as it comes out with one known slip, so they can name it.
This module writes that step once. With no mistake it is `lstm_lib.cells.lstm_step`'s forward.

    z = x @ W_x + h @ W_h + b                   (or [h | x | 1] @ W, the stacked form)
    i, f, o = sigmoid(blocks), g = tanh(block)   (blocks read in `order`)
    c = f * c_prev + i * g
    h = o * tanh(c)

`order` names the gate of each column block of z, left to right ("ifgo", PyTorch's). Three
blocks "fgo" are the coupled cell (CIFG): i = 1 - f. `mistake` is None, one name from
MISTAKES, or several names in a tuple.
"""
import numpy as np

from ...activations import sigmoid

MISTAKES = {
    # building z
    "no_h": "z = x @ W_x + b: the previous output is left out",
    "no_bias": "z = x @ W_x + h @ W_h: the bias is left out",
    "x_before_h": "the stacked row is [x | h | 1], but W is [W_h; W_x; b]",
    # the activations
    "candidate_sigmoid": "g = sigmoid(z_g) instead of tanh(z_g)",
    "gates_tanh": "i, f, o = tanh(...) instead of sigmoid(...)",
    # the cell
    "no_input_gate": "c = f * c_prev + g: the candidate is written in full",
    "no_forget_gate": "c = c_prev + i * g: the old cell is kept in full",
    "cell_not_kept": "c = i * g: the old cell is dropped",
    "input_is_forget": "i = f (in the coupled cell: instead of 1 - f)",
    "coupling_swapped": "the coupled cell keeps c_prev by 1 - f and writes g by f",
    # the output
    "h_no_tanh": "h = o * c",
    "h_tanh_outside": "h = tanh(o * c)",
    "h_old_cell": "h = o * tanh(c_prev): the old cell",
    "h_no_output_gate": "h = tanh(c)",
}
_Z_MISTAKES = frozenset({"no_h", "no_bias", "x_before_h"})


def _names(mistake):
    names = frozenset() if mistake is None else frozenset([mistake] if isinstance(mistake, str) else mistake)
    unknown = names - MISTAKES.keys()
    if unknown:
        raise ValueError(f"unknown mistake(s) {sorted(unknown)}; known: {sorted(MISTAKES)}")
    return names


def pre_activations(x, h, params, *, mistake=None):
    """z, the gates' pre-activations. `params` holds W_x, W_h and b, or one stacked W = [W_h; W_x; b]
    that multiplies the row [h | x | 1]. Only the slips that change z act here."""
    slips = _names(mistake)
    if "W" in params:
        parts = {"h": h, "x": x, "1": np.ones((h.shape[0], 1))}
        stack = "xh1" if "x_before_h" in slips else "hx1"
        return np.concatenate([parts[k] for k in stack], axis=1) @ params["W"]
    z = x @ params["W_x"]
    if "no_h" not in slips:
        z = z + h @ params["W_h"]
    return z if "no_bias" in slips else z + params["b"]


def step_from_z(z, c_prev, *, order="ifgo", mistake=None):
    """(h, c) of one step from the pre-activations z, with the slips that act after z."""
    slips = _names(mistake)
    H = c_prev.shape[1]
    if sorted(order) not in (sorted("ifgo"), sorted("fgo")):
        raise ValueError(f"order must be a permutation of 'ifgo' or of 'fgo', got {order!r}")
    blocks = {name: z[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    gate = np.tanh if "gates_tanh" in slips else sigmoid
    cand = sigmoid if "candidate_sigmoid" in slips else np.tanh
    f, g, o = gate(blocks["f"]), cand(blocks["g"]), gate(blocks["o"])
    if "i" in blocks:
        i = f if "input_is_forget" in slips else gate(blocks["i"])
    elif "coupling_swapped" in slips:
        f, i = 1 - f, f
    else:
        i = f if "input_is_forget" in slips else 1 - f
    kept = c_prev if "no_forget_gate" in slips else f * c_prev
    if "cell_not_kept" in slips:
        kept = 0
    c = kept + (g if "no_input_gate" in slips else i * g)
    if "h_tanh_outside" in slips:
        return np.tanh(o * c), c
    shown = c_prev if "h_old_cell" in slips else c
    out = shown if "h_no_tanh" in slips else np.tanh(shown)
    return (out if "h_no_output_gate" in slips else o * out), c


def lstm_step(x, h, c, params, *, order="ifgo", mistake=None):
    """(h, c) of one LSTM step with `mistake` planted (None: the right step). `params` as in
    `pre_activations`; `order` as in `step_from_z`."""
    slips = _names(mistake)
    z = pre_activations(x, h, params, mistake=slips & _Z_MISTAKES)
    return step_from_z(z, c, order=order, mistake=slips - _Z_MISTAKES)
