"""Chapter 06's peephole LSTM (the exercise's step and its reference backward) is
lstm_lib.variants.PeepholeLSTM: same outputs and gradients over a sequence, to 1e-12."""
import numpy as np
import pytest

from lstm_lib.course.exercises import ch06
from lstm_lib.variants import PeepholeLSTM

TIE = 1e-12


def _inputs(seed, B=3, T=5, I=2, H=4):
    rng = np.random.default_rng(seed)
    x, h0, c0 = rng.standard_normal((B, T, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    W_x, W_h = rng.standard_normal((I, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.5
    b, p = rng.standard_normal(4 * H) * 0.5, rng.standard_normal((3, H))
    return x, h0, c0, (W_x, W_h, b, p), rng.standard_normal((B, T, H))


def _chapter_run(x, h0, c0, weights, dh, step=ch06.peephole_step, backward=ch06.peephole_backward):
    """Outputs, dx and the parameter gradients of the chapter's step and backward, looped."""
    h, c, caches, out = h0, c0, [], []
    for t in range(x.shape[1]):
        h, c, cache = step(x[:, t], h, c, *weights)
        out.append(h)
        caches.append(cache)
    W_x, W_h, b, p = weights
    grads = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros_like(b), "p": np.zeros_like(p)}
    dx, dh_next, dc_next = np.empty_like(x), np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dh_next, dc_next, dW_x, dW_h, db, dp = backward(dh[:, t] + dh_next, dc_next, caches[t])
        for name, g in (("W_x", dW_x), ("W_h", dW_h), ("b", db), ("p", dp)):
            grads[name] += g
    grads.update(p_i=grads["p"][0], p_f=grads["p"][1], p_o=grads.pop("p")[2])
    return np.stack(out, axis=1), dx, grads


def _library_run(x, h0, c0, weights, dh):
    W_x, W_h, b, p = weights
    layer = PeepholeLSTM(x.shape[2], h0.shape[1], dtype=np.float64)
    for name, value in (("W_x", W_x), ("W_h", W_h), ("b", b), ("p_i", p[0]), ("p_f", p[1]), ("p_o", p[2])):
        layer.params[name][...] = value
    out = layer.forward(x, h0, c0)
    dx = layer.backward(dh)
    return out, dx, dict(layer.grads)


def tie_error(seed, **chapter):
    """Largest difference between the chapter's peephole LSTM and PeepholeLSTM: outputs, dx,
    and the gradients of W_x, W_h, b, p_i, p_f, p_o."""
    case = _inputs(seed)
    (out, dx, grads), (ref_out, ref_dx, ref_grads) = _chapter_run(*case, **chapter), _library_run(*case)
    assert set(grads) == set(ref_grads)
    return max([np.abs(out - ref_out).max(), np.abs(dx - ref_dx).max()]
               + [np.abs(grads[k] - ref_grads[k]).max() for k in grads])


@pytest.mark.parametrize("seed", range(4))
def test_chapter_peephole_lstm_is_the_library_peephole_lstm(seed):
    assert tie_error(seed) < TIE


def _o_peephole_negated(x, h, c, W_x, W_h, b, p):
    return ch06.peephole_step(x, h, c, W_x, W_h, b, p * np.array([[1.0], [1.0], [-1.0]]))


@pytest.mark.parametrize("planted", [
    {"step": _o_peephole_negated},  # a wrong peephole on the output gate, forward
    {"backward": lambda dh, dc, cache: ch06.peephole_backward(dh, dc, cache, o_reads_c_prev=True)},
    {"backward": lambda dh, dc, cache: ch06.peephole_backward(dh, dc, cache, o_into_c=False)},
    {"backward": lambda dh, dc, cache: ch06.peephole_backward(dh, dc, cache, peep_into_c_prev=False)},
])
def test_a_planted_difference_breaks_the_tie(planted):
    assert tie_error(0, **planted) > 1e-6
