"""Self-checks for chapter 03, the candidate cell c~."""
import numpy as np

from ...activations import sigmoid
from ..selfcheck import Mistake, expect_array, expect_close, expect_finite, self_check
from .ch01 import call, close

_BLOCKS = ("input gate i", "forget gate f", "candidate g", "output gate o")


def _fused_case():
    rng = np.random.default_rng(3)
    B, I, H = 2, 3, 4
    x = rng.standard_normal((B, I))
    h = rng.standard_normal((B, H))
    W_x, W_h, b = rng.standard_normal((I, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    return x, h, W_x, W_h, b, H


@self_check("c~ = tanh of the third block (columns 2H:3H) of the fused pre-activations")
def check_candidate(candidate):
    """`candidate(x, h_prev, W_x, W_h, b)` returns c~ (B, H) from fused weights in the order i, f, g, o."""
    x, h, W_x, W_h, b, H = _fused_case()
    B = x.shape[0]
    z = x @ W_x + h @ W_h + b
    blocks = [z[:, k * H:(k + 1) * H] for k in range(4)]
    want = np.tanh(blocks[2])
    got = expect_array(call(candidate, x, h, W_x, W_h, b, name="candidate"), "c~")
    if got.shape == (B, 4 * H):
        raise Mistake(f"c~ has shape {got.shape}, expected {(B, H)}: apply tanh to the "
                      f"candidate block only, z[:, 2*H:3*H]")
    if got.shape != (B, H):
        raise Mistake(f"c~ has shape {got.shape}, expected {(B, H)} (batch, hidden)")
    expect_finite(got, "c~")
    if close(got, want):
        return
    for k, block in enumerate(blocks):
        if k != 2 and (close(got, np.tanh(block)) or close(got, sigmoid(block))):
            raise Mistake(f"you took block {k} (columns {k}H:{k + 1}H), the {_BLOCKS[k]}: in the "
                          f"order i, f, g, o the candidate is block 2, columns 2H:3H")
    if close(got, sigmoid(blocks[2])):
        raise Mistake("values only in (0, 1): you used the sigmoid. The candidate uses tanh, "
                      "so it can be negative and subtract from the cell")
    if close(got, blocks[2]):
        raise Mistake("values outside [-1, 1]: apply tanh to the pre-activation")
    if close(got, np.tanh(x @ W_x[:, 2 * H:3 * H] + b[2 * H:3 * H])):
        raise Mistake("the previous output h_prev is missing: add h_prev @ W_h[:, 2*H:3*H]")
    expect_close(got, want, "c~", hint="expected np.tanh((x @ W_x + h_prev @ W_h + b)[:, 2*H:3*H])")


@self_check("c_t = f * c_prev + i * g: keep a fraction of the old cell, add the gated candidate")
def check_cell_update(cell_update):
    """`cell_update(c_prev, f, i, g)` returns the new cell c_t (elementwise)."""
    rng = np.random.default_rng(4)
    shape = (2, 3)
    c_prev = rng.standard_normal(shape)
    f, i = sigmoid(rng.standard_normal(shape)), sigmoid(rng.standard_normal(shape))
    g = np.tanh(rng.standard_normal(shape))
    want = f * c_prev + i * g
    got = expect_array(call(cell_update, c_prev, f, i, g, name="cell_update"), "c_t")
    if got.shape != shape:
        raise Mistake(f"c_t has shape {got.shape}, expected {shape}: everything here is "
                      f"elementwise (*), no matrix product (@) and no sum")
    expect_finite(got, "c_t")
    if close(got, want):
        return
    wrong = [
        (f * c_prev + g, "the candidate is added in full: multiply it by the input gate, i * g"),
        (c_prev + i * g, "the old cell is kept in full: multiply it by the forget gate, f * c_prev"),
        (f * c_prev + i, "you added the input gate itself: add i * g, the gated candidate"),
        (i * c_prev + f * g, "the gates are swapped: f scales the old cell, i scales the candidate"),
        (np.tanh(want), ("you squashed the cell with tanh: that belongs to h_t = o * tanh(c_t); "
                        "the cell itself is not squashed, which is why it can carry values")),
        (f * c_prev * i * g, "the two parts are added, not multiplied: f * c_prev + i * g"),
        ((1 - f) * c_prev + i * g, ("(1 - f) * c_prev forgets when f is near 1: the forget gate "
                                   "keeps, c_t = f * c_prev + i * g")),
    ]
    for value, message in wrong:
        if close(got, value):
            raise Mistake(message)
    expect_close(got, want, "c_t", hint="expected f * c_prev + i * g")
