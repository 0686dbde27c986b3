"""Self-checks for chapter 05 (the LSTM layer, forward)."""
import numpy as np

from ...activations import sigmoid
from ...cells import lstm_step
from ..selfcheck import Mistake, expect_array, expect_finite, expect_shape, self_check


def _case(seed=5, B=3, I=2, H=4):
    """Random inputs with all sizes different, so any mixed-up axis shows as a shape error."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H)),
            rng.standard_normal((I, 4 * H)), rng.standard_normal((H, 4 * H)) * 0.5,
            rng.standard_normal(4 * H))


def _step_with(x, h, c, W_x, W_h, b, order="ifgo", g_act=np.tanh, use_o=True, use_tanh_c=True):
    H = h.shape[1]
    z = x @ W_x + h @ W_h + b
    blocks = {name: z[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
    g = g_act(blocks["g"])
    c_new = f * c + i * g
    tc = np.tanh(c_new) if use_tanh_c else c_new
    return (o * tc if use_o else tc), c_new


def torch_case(seed=5, B=3, I=2, H=4):
    """x_t, h_prev, c_prev and PyTorch-layout parameters weight_ih (4H, I), weight_hh (4H, H),
    bias_ih, bias_hh (4H,), all sizes different."""
    x, h, c, W_x, W_h, b = _case(seed, B, I, H)
    b_hh = np.random.default_rng(seed + 1).standard_normal(4 * H)
    return x, h, c, W_x.T.copy(), W_h.T.copy(), b, b_hh


@self_check("your step on PyTorch's layout equals lstm_lib.cells.lstm_step with W_x = weight_ih.T, "
            "W_h = weight_hh.T and b = bias_ih + bias_hh.")
def check_torch_layout_step(step):
    """`step(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)` with weight_ih
    (4H, I), weight_hh (4H, H), bias_ih and bias_hh (4H,), gate blocks i, f, g, o, must return
    (h, c) (more return values are ignored)."""
    args = torch_case()
    x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh = args
    try:
        result = step(*(a.copy() for a in args))
    except NotImplementedError:
        raise
    except ValueError as exc:
        if "matmul" in str(exc) or "shape" in str(exc) or "align" in str(exc):
            raise Mistake("a matrix product failed on the shapes: weight_ih is (4H, I) = (16, 2) and "
                          "weight_hh is (4H, H) = (16, 4) in PyTorch's layout, so the products are "
                          "x_t @ weight_ih.T and h_prev @ weight_hh.T")
        raise Mistake(f"your function raised ValueError: {exc}")
    except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
        raise Mistake(f"your function raised {type(exc).__name__}: {exc}. Shapes: x_t (3, 2), "
                      f"h_prev and c_prev (3, 4), weight_ih (16, 2), weight_hh (16, 4), biases (16,)")
    if not isinstance(result, (tuple, list)) or len(result) < 2:
        raise Mistake("return h and c, as `return h, c`")
    h, c = expect_array(result[0], "h"), expect_array(result[1], "c")
    expect_shape(h, (3, 4), "h")
    expect_shape(c, (3, 4), "c")
    expect_finite(h, "h")
    h_ref, c_ref, _ = lstm_step(x, h_prev, c_prev, w_ih.T, w_hh.T, b_ih + b_hh)

    def same(hc, ref):
        return np.allclose(hc[0], ref[0], atol=1e-6) and np.allclose(hc[1], ref[1], atol=1e-6)

    if same((h, c), (h_ref, c_ref)):
        return
    if same((c, h), (h_ref, c_ref)):
        raise Mistake("h and c are swapped: return h, c (h first)")
    for b, name, other in ((b_ih, "bias_hh", "bias_ih"), (b_hh, "bias_ih", "bias_hh"), (0 * b_ih, "both biases", "")):
        if same(lstm_step(x, h_prev, c_prev, w_ih.T, w_hh.T, b)[:2], (h, c)):
            raise Mistake(f"{name} {'are' if other == '' else 'is'} missing: PyTorch adds two bias "
                          f"vectors, z = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh")
    known = [
        ({"order": "ifog"}, ("the gate blocks are in the order i, f, o, g; PyTorch's order is "
                             "i, f, g, o (the candidate g is the third block)")),
        ({"order": "fiog"}, "the gate blocks are in the order f, i, o, g; use i, f, g, o"),
        ({"order": "iofg"}, "the gate blocks are in the wrong order; use i, f, g, o"),
        ({"g_act": sigmoid}, ("the candidate g uses a sigmoid; it needs tanh, so it can be "
                              "negative and remove from the cell")),
        ({"use_o": False}, "h is tanh(c) without the output gate: h = o * tanh(c)"),
        ({"use_tanh_c": False}, "h is o * c; squash the cell first: h = o * tanh(c)"),
    ]
    for kwargs, message in known:
        if same(_step_with(x, h_prev, c_prev, w_ih.T, w_hh.T, b_ih + b_hh, **kwargs), (h, c)):
            raise Mistake(message)
    if np.allclose(h, h_ref, atol=1e-6):
        raise Mistake("h is right but c is not: c = f * c_prev + i * g")
    if np.allclose(c, c_ref, atol=1e-6):
        raise Mistake("c is right but h is not: h = o * tanh(c)")
    raise Mistake(f"h is off by up to {np.max(np.abs(h - h_ref)):.3g}: compare each gate with "
                  f"z = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh, blocks i, f, g, o "
                  f"of width H")


@self_check("4H(I + H + 1) = 4 * 32 * (10 + 32 + 1) = 5504 parameters.")
def check_param_count(answer):
    """Number of parameters of lstm_lib.LSTM(input_size=10, hidden_size=32)."""
    try:
        n = int(answer)
    except (TypeError, ValueError):
        raise Mistake(f"answer should be a whole number, got {answer!r}")
    I, H = 10, 32
    right = 4 * H * (I + H + 1)
    if n == right:
        return
    wrong = {
        4 * H * (I + H + 2): "that is torch.nn.LSTM's count, which stores two bias vectors "
                             "(bias_ih and bias_hh) that always add up; lstm_lib keeps one b",
        H * (I + H + 1): "that is one gate; the LSTM has four (i, f, g, o), each with its own "
                         "weights: multiply by 4",
        4 * H * (I + H): "you left out the bias b, 4H numbers",
        3 * H * (I + H + 1): "that is three gates; count the candidate g as well: four blocks",
    }
    raise Mistake(wrong.get(n, f"{n} is not it: count W_x (I, 4H), W_h (H, 4H) and b (4H,)"))
