"""Self-checks for chapter 09 (the GRU)."""
import numpy as np

from ...activations import sigmoid
from ...cells import gru_step
from ..selfcheck import Mistake, expect_array, expect_close, expect_shape, self_check


def exercise_gru_inputs():
    """The fixed small inputs of exercise 1: x (2, 3), h_prev (2, 4), W_x (3, 12), W_h (4, 12),
    b (12,), b_hn (4,)."""
    rng = np.random.default_rng(9)
    return {"x": rng.standard_normal((2, 3)), "h_prev": rng.uniform(-1, 1, (2, 4)),
            "W_x": rng.standard_normal((3, 12)) * 0.5, "W_h": rng.standard_normal((4, 12)) * 0.5,
            "b": rng.standard_normal(12) * 0.3, "b_hn": rng.standard_normal(4) * 0.3}


def _variants(x, h_prev, W_x, W_h, b, b_hn):
    """Typical wrong GRU steps, each with the mistake it names."""
    H = h_prev.shape[1]
    gx, gh = x @ W_x + b, h_prev @ W_h
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * (gh[:, 2 * H:] + b_hn))
    n_cho = np.tanh(gx[:, 2 * H:] + (r * h_prev) @ W_h[:, 2 * H:] + b_hn)
    n_nor = np.tanh(gx[:, 2 * H:] + gh[:, 2 * H:] + b_hn)
    n_nobhn = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    swapped = ("z and 1 - z are swapped: in torch's GRU, h = (1 - z) * n + z * h_prev, "
               "so z near 1 keeps the old state")
    cho = ("the reset gate is applied before the matrix product (r * h_prev) @ W_hn, as in "
           "Cho et al. 2014; torch applies it after: r * (h_prev @ W_hn + b_hn)")
    no_bhn = "b_hn is missing: it sits inside the reset, r * (h_prev @ W_hn + b_hn)"
    r_for_z = ("you mixed with r instead of z: the update gate z is the second block of "
               "columns, r the first")
    return [
        (z * n + (1 - z) * h_prev, swapped),
        ((1 - z) * n_cho + z * h_prev, cho),
        ((1 - z) * n_nor + z * h_prev, "the reset gate r is missing from the candidate"),
        ((1 - z) * n_nobhn + z * h_prev, no_bhn),
        ((1 - r) * n + r * h_prev, r_for_z),
    ]


@self_check("your GRU step matches torch.nn.GRU's equations.")
def check_gru_step(h_new):
    """Exercise 1: h_new, one GRU step on exercise_gru_inputs()."""
    p = exercise_gru_inputs()
    h_ref, _ = gru_step(**p)
    h_new = expect_shape(h_new, h_ref.shape, "h_new")
    if np.allclose(h_new, h_ref, atol=1e-6):
        return
    for wrong, message in _variants(**p):
        if np.allclose(h_new, wrong, atol=1e-6):
            raise Mistake(message)
    expect_close(h_new, h_ref, "h_new", "recompute r, z, n from the equations above")


def gru_param_count(input_size, hidden_size):
    """Parameters of torch.nn.GRU(input_size, hidden_size): two biases per gate block."""
    return 3 * hidden_size * (input_size + hidden_size + 2)


@self_check("that is the parameter count torch.nn.GRU reports.")
def check_gru_param_count(count, input_size=10, hidden_size=20):
    """Exercise 2: the number of parameters of torch.nn.GRU(input_size, hidden_size)."""
    I, H = input_size, hidden_size
    count = expect_array(count, "count")
    if count.shape != () or count != int(count):
        raise Mistake(f"count should be one whole number, got {count}")
    count = int(count)
    right = gru_param_count(I, H)
    if count == right:
        return
    wrong = {
        4 * H * (I + H + 2): "that is the LSTM's count (4 blocks); the GRU has 3: r, z, n",
        H * (I + H + 2): "that is the vanilla RNN's count (1 block); the GRU has 3: r, z, n",
        3 * H * (I + H): "the biases are missing: torch keeps b_ih and b_hh, each 3H long",
        3 * H * (I + H + 1): "torch keeps two bias vectors, b_ih and b_hh (3H each); you counted one",
        3 * H * (I + H + 1) + H: "that is lstm_lib's count (one fused bias plus b_hn); torch keeps two "
                                 "full bias vectors b_ih and b_hh, 3H each",
        3 * (I * H + H + 2): "the recurrent weights W_hh are (3H, H): H * H per gate, not H",
    }
    if count in wrong:
        raise Mistake(wrong[count])
    raise Mistake(f"{count} is not it: count W_ih (3H x I), W_hh (3H x H) and two biases (3H each)")


@self_check("right: the stored value halves in that many steps.")
def check_half_life(steps, z=0.95):
    """Exercise 3: after how many steps (a real number) is half of the stored value left,
    if the update gate stays at z and the candidate is 0?"""
    steps = expect_array(steps, "steps")
    if steps.shape != ():
        raise Mistake(f"steps should be one number, got shape {steps.shape}")
    right = np.log(0.5) / np.log(z)
    if np.isclose(steps, right, rtol=1e-3):
        return
    if np.isclose(steps, np.log(0.5) / np.log(1 - z), rtol=1e-3):
        raise Mistake("you used 1 - z: with h = (1 - z) * n + z * h_prev, the fraction kept each "
                      "step is z")
    if np.isclose(steps, 0.5 / (1 - z), rtol=1e-3):
        raise Mistake("the decay is geometric, z**k, not linear: solve z**k = 0.5 for k")
    raise Mistake(f"{float(steps):.3g} is not it: solve z**k = 0.5 for k (take logarithms)")
