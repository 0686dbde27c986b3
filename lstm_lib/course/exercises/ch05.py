"""Self-checks for chapter 05 (the LSTM layer, forward)."""
import itertools
import typing

import numpy as np

from ...activations import sigmoid
from ...cells import lstm_step
from ..selfcheck import Mistake, expect_array, expect_finite, expect_shape, self_check
from . import mistakes as mistaken


def _case(seed=5, B=3, I=2, H=4):
    """Random inputs with all sizes different, so any mixed-up axis shows as a shape error."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H)),
            rng.standard_normal((I, 4 * H)), rng.standard_normal((H, 4 * H)) * 0.5,
            rng.standard_normal(4 * H))


def _step_with(x, h, c, W_x, W_h, b, order="ifgo", g_act=np.tanh, use_o=True, use_tanh_c=True):
    """The step with the slips this chapter's checker names, planted by the shared mistaken step."""
    mistake = tuple(name for name, planted in (("candidate_sigmoid", g_act is sigmoid),
                                               ("h_no_output_gate", not use_o),
                                               ("h_no_tanh", not use_tanh_c)) if planted)
    if g_act not in (np.tanh, sigmoid):
        raise ValueError("g_act is np.tanh (right) or sigmoid (the slip)")
    return mistaken.lstm_step(x, h, c, {"W_x": W_x, "W_h": W_h, "b": b}, order=order, mistake=mistake)


WRONG_ORDERS = ["".join(p) for p in itertools.permutations("ifgo") if "".join(p) != "ifgo"]


def _order_message(order):
    """Name a wrong reading of z's four column blocks."""
    said = ", ".join(order)
    extra = {
        "figo": ": the first block of z is the input gate i, the second the forget gate f",
        "ifog": ": the candidate g is the third block, the output gate o the last",
    }.get(order, "")
    return (f"the gate blocks are read in the order {said}; the code's order is i, f, g, o (PyTorch's, "
            f"and the diagram's boxes left to right){extra}")


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
    known = [({"order": order}, _order_message(order)) for order in WRONG_ORDERS] + [
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


# --- the layer with the input projection taken out of the loop --------------------------------

class _Counted(np.ndarray):
    """W_x as the checker passes it: counts the matrix products it takes part in (views too),
    and hands plain arrays on, so everything computed from it is an ordinary ndarray."""

    products: typing.ClassVar[list] = [0]
    _PRODUCTS = frozenset({np.dot, np.einsum, np.tensordot, np.inner, np.matmul, np.vdot})

    @staticmethod
    def _plain(value):
        if isinstance(value, _Counted):
            return value.view(np.ndarray)
        if isinstance(value, (tuple, list)):
            return type(value)(_Counted._plain(v) for v in value)
        return value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul:
            _Counted.products[0] += 1
        if "out" in kwargs:
            kwargs["out"] = _Counted._plain(kwargs["out"])
        return getattr(ufunc, method)(*_Counted._plain(inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func in _Counted._PRODUCTS:
            _Counted.products[0] += 1
        return func(*_Counted._plain(args), **{k: _Counted._plain(v) for k, v in kwargs.items()})

    def dot(self, other, *args):  # W_x.dot(...) is a product too
        _Counted.products[0] += 1
        return np.dot(self.view(np.ndarray), _Counted._plain(other), *args)


def layer_case(seed=7, B=3, T=5, I=2, H=4):
    """x (B, T, I), W_x (I, 4H), W_h (H, 4H), b (4H,): all sizes different, b not zero."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, T, I)), rng.standard_normal((I, 4 * H)) * 0.8,
            rng.standard_normal((H, 4 * H)) * 0.6, rng.standard_normal(4 * H) * 0.5)


def _layer_with(x, W_x, W_h, b, order="ifgo", layout="right", bias=1, carry=True):
    """The layer forward from zero state, with one slip switched on: the gate order, the way the
    (B, T, 4H) projection is laid out ("right", "TB": reshaped to (T, B, 4H) and read as P[t],
    "x_transposed": x put time-first before the product but read back batch-first), the bias
    counted `bias` times (0, 1 or 2), or (carry=False) h and c not handed from step to step."""
    B, T, I = x.shape
    H = W_h.shape[0]
    b_proj = b if bias >= 1 else 0 * b
    if layout == "x_transposed":
        P = (x.transpose(1, 0, 2).reshape(T * B, I) @ W_x + b_proj).reshape(B, T, 4 * H)
    else:
        P = (x.reshape(B * T, I) @ W_x + b_proj).reshape((T, B, 4 * H) if layout == "TB" else (B, T, 4 * H))
    h, c = np.zeros((B, H)), np.zeros((B, H))
    hs = np.empty((B, T, H))
    for t in range(T):
        if not carry:
            h, c = np.zeros((B, H)), np.zeros((B, H))
        z = (P[t] if layout == "TB" else P[:, t]) + h @ W_h + (b if bias == 2 else 0)
        h, c = mistaken.step_from_z(z, c, order=order)
        hs[:, t] = h
    return hs, (h, c)


LAYER_SLIPS = [({"order": order}, _order_message(order)) for order in WRONG_ORDERS] + [
    ({"layout": "TB"}, ("the projection is reshaped to (T, B, 4H) and read as X_proj[t], but the rows of "
                        "x.reshape(B * T, I) are batch-major (example 0's steps first): reshape the product "
                        "back to (B, T, 4H) and take step t as X_proj[:, t]")),
    ({"layout": "x_transposed"}, ("x was put time-first, x.transpose(1, 0, 2), before the product, but "
                                  "the product was reshaped back as (B, T, 4H): with rows in time-major "
                                  "order reshape to (T, B, 4H) and take X_proj[t], or keep x batch-first")),
    ({"bias": 0}, "the bias b is missing: add it once, to the projection before the loop"),
    ({"bias": 2}, "b is added twice, in the projection and again in the loop: add it once"),
    ({"carry": False}, ("h and c are not handed on: every step must start from the (h, c) the step "
                        "before it returned, not from zeros")),
]


@self_check("your layer gives lstm_lib.LSTM's outputs and final state, with one input product "
            "for all steps before the loop.")
def check_hoisted_layer(forward):
    """`forward(x, W_x, W_h, b)` with x (B, T, I) batch-first, zero initial state, must return
    `hs, (h_T, c_T)` with hs (B, T, H), computing x @ W_x for all steps in one product before
    the loop. The checker passes W_x as an array that counts the products it takes part in."""
    x, W_x, W_h, b = layer_case()
    B, T, _ = x.shape
    H = W_h.shape[0]
    _Counted.products[0] = 0
    try:
        result = forward(x.copy(), W_x.copy().view(_Counted), W_h.copy(), b.copy())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
        raise Mistake(f"your function raised {type(exc).__name__}: {exc}. Shapes: x (3, 5, 2) = (B, T, I), "
                      f"W_x (2, 16), W_h (4, 16), b (16,); X_proj = x.reshape(B * T, I) @ W_x + b is "
                      f"(15, 16), reshaped to (B, T, 4H) = (3, 5, 16), and step t is X_proj[:, t], (3, 16)")
    products = _Counted.products[0]
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], (tuple, list)) \
            or len(result[1]) != 2:
        raise Mistake("return the outputs and the final state as `return hs, (h, c)`")
    hs = expect_array(result[0], "hs")
    if hs.shape == (T, B, H):
        raise Mistake(f"hs has shape {hs.shape} = (T, B, H); the layer is batch-first: hs is (B, T, H), "
                      f"hs[:, t] = h")
    expect_shape(hs, (B, T, H), "hs")
    expect_finite(hs, "hs")
    h_T, c_T = expect_array(result[1][0], "h_T"), expect_array(result[1][1], "c_T")
    expect_shape(h_T, (B, H), "h_T")
    expect_shape(c_T, (B, H), "c_T")
    ref_hs, (ref_h, ref_c) = _layer_with(x, W_x, W_h, b)
    if np.allclose(hs, ref_hs, atol=1e-8):
        if not (np.allclose(h_T, ref_h, atol=1e-8) and np.allclose(c_T, ref_c, atol=1e-8)):
            raise Mistake("hs is right but the final state is not: return the (h, c) of the last step")
        if products >= T:
            raise Mistake(f"the numbers are right, but W_x took part in {products} matrix products for "
                          f"T = {T} steps: the input projection is still inside the loop. Compute "
                          f"X_proj = x.reshape(B * T, I) @ W_x + b once, before the loop")
        return
    for kwargs, message in LAYER_SLIPS:
        if np.allclose(hs, _layer_with(x, W_x, W_h, b, **kwargs)[0], atol=1e-8):
            raise Mistake(message)
    raise Mistake(f"hs is off by up to {np.max(np.abs(hs - ref_hs)):.3g} at step "
                  f"{int(np.argmax(np.abs(hs - ref_hs).max(axis=(0, 2))))}: compare z = X_proj[:, t] + h @ W_h "
                  f"with the step of section 2, blocks i, f, g, o of width H")
