"""Self-checks for chapter 13 (making it fast)."""
import numpy as np

from ...activations import sigmoid
from ...lstm import LSTM
from ..selfcheck import Mistake, call, expect_close, self_check
from . import mistakes as mistaken

# --- exercise 1: one tanh call for all four gates ------------------------------------------------

def gates_from(z, s, m):
    """The gate values the fast layer computes from pre-activations z (B, 4H) with the column
    vectors s and m: tanh(s z) s + m."""
    return np.tanh(s * z) * s + m


@self_check("with these s and m, tanh(s z) s + m gives sigmoid in the i, f, o blocks and tanh "
            "in the g block: all four gates in one tanh call.")
def check_gate_scale(fn):
    """Exercise 1: `fn(H)` returns (s, m), two vectors of length 4H such that
    tanh(s z) s + m gives the four gate values of z (B, 4H), blocks i, f, g, o."""
    H = 3
    got = call(fn, H, name="your function")
    try:
        s, m = (np.asarray(v, dtype=float) for v in got)
    except (TypeError, ValueError):
        raise Mistake("return two arrays, s and m: `return s, m`")
    if s.shape != (4 * H,) or m.shape != (4 * H,):
        raise Mistake(f"s and m need one entry per column of z, 4H = {4 * H} for H = {H}; "
                      f"got shapes {s.shape} and {m.shape}")
    z = np.linspace(-4, 4, 5 * 4 * H).reshape(5, 4 * H)  # (B, 4H)
    got = gates_from(z, s, m)
    blocks = [slice(k * H, (k + 1) * H) for k in range(4)]
    want = np.concatenate([sigmoid(z[:, blocks[0]]), sigmoid(z[:, blocks[1]]),
                           np.tanh(z[:, blocks[2]]), sigmoid(z[:, blocks[3]])], axis=1)
    if np.allclose(got, want):
        return
    if np.allclose(got, sigmoid(z)):
        raise Mistake("every block comes out a sigmoid: the candidate g (the third block) is a "
                      "tanh, so s = 1 and m = 0 there")
    as_tanh = [name for k, name in ((0, "i"), (1, "f"), (3, "o"))
               if np.allclose(got[:, blocks[k]], np.tanh(z[:, blocks[k]]))]
    if as_tanh:
        raise Mistake(f"the {as_tanh[0]} block comes out a tanh: the blocks are in PyTorch's "
                      f"order i, f, g, o, and only the third (g) is a tanh")
    for k, name in ((0, "i"), (1, "f"), (3, "o")):
        blk = got[:, blocks[k]]
        if np.allclose(blk, np.tanh(z[:, blocks[k]]) + 0.5):
            raise Mistake(f"the {name} block gives tanh(z) + 0.5: a sigmoid halves both the "
                          f"argument and the result, s = 0.5 there")
        if not np.allclose(blk, want[:, blocks[k]]):
            raise Mistake(f"the {name} block is not a sigmoid: sigma(z) = 0.5 tanh(0.5 z) + 0.5, "
                          f"so s = m = 0.5 in the i, f and o blocks")
    raise Mistake("the g block is not tanh(z): s = 1 and m = 0 there")


# --- exercise 2: the operations of one streaming step ---------------------------------------------

@self_check("that is the count: a (1, H + I + 1) x (H + I + 1, 4H) product, two operations per "
            "multiply-add.")
def check_stream_flops(answer):
    """Exercise 2: operations of the matrix product in one stream step at batch 1 of an LSTM
    with input 3 and hidden 16 (the row [h | x | 1] times [W_h; W_x; b])."""
    I, H = 3, 16
    want = 2 * (H + I + 1) * 4 * H
    try:
        got = float(answer)
    except (TypeError, ValueError):
        raise Mistake(f"the answer should be a number, got {type(answer).__name__}")
    if got == want:
        return
    wrong = {want / 2: "each multiply-add is two operations: a (1, k) x (k, n) product costs 2 k n",
             2 * (H + I) * 4 * H: "the row has a 1 at its end for the bias: k = H + I + 1",
             2 * (H + I + 1) * H: "the product gives all four gates at once: 4H columns, not H",
             3 * want: "a stream only runs forward: there is no backward pass to count",
             2 * (I + 1) * 4 * H: "the row holds h too: [h | x | 1], k = H + I + 1"}
    for value, message in wrong.items():
        if got == value:
            raise Mistake(message)
    raise Mistake(f"{got:.0f} is not it: the row [h | x | 1] has H + I + 1 entries and the "
                  f"weights 4H columns")


# --- exercise 3: the backward multipliers before the loop -----------------------------------------

def exercise_gate_values():
    """Exercise 3's fixed inputs, as a forward pass leaves them: gate values i, f, g, o,
    tanh_c and c_prev, each (T, B, H) = (4, 2, 3)."""
    rng = np.random.default_rng(13)
    shape = (4, 2, 3)
    i, f, o = (sigmoid(rng.standard_normal(shape)) for _ in range(3))
    g, c_prev = np.tanh(rng.standard_normal(shape)), rng.standard_normal(shape)
    return i, f, g, o, np.tanh(f * c_prev + i * g), c_prev


def reference_multipliers(i, f, g, o, tanh_c, c_prev):
    """What the fast backward multiplies each gradient by on its way through a step:
    dh -> do, dh -> dc, dc -> di, dc -> df, dc -> dg (gradients of the pre-activations)."""
    return (tanh_c * o * (1 - o), o * (1 - tanh_c ** 2), g * i * (1 - i), c_prev * f * (1 - f),
            i * (1 - g ** 2))


NAMES = ("to_do", "to_dc", "to_di", "to_df", "to_dg")


@self_check("these five arrays, computed once for all steps, leave the backward loop only "
            "multiplications and adds.")
def check_multipliers(fn):
    """Exercise 3: `fn(i, f, g, o, tanh_c, c_prev)` returns the five multipliers
    (to_do, to_dc, to_di, to_df, to_dg), each (T, B, H)."""
    inputs = exercise_gate_values()
    got = call(fn, *(a.copy() for a in inputs), name="your function")
    if not isinstance(got, (tuple, list)) or len(got) != 5:
        raise Mistake("return five arrays: to_do, to_dc, to_di, to_df, to_dg")
    i, f, g, o, tc, _c_prev = inputs
    want = reference_multipliers(*inputs)
    hints = {
        "to_do": [(tc * o, "the output gate's sigmoid has a derivative too: tanh(c) o (1 - o)"),
                  (o * (1 - o), "h = o tanh(c): the gradient reaching o is multiplied by tanh(c)")],
        "to_dc": [(o * (1 - tc), "the derivative of tanh is 1 - tanh(c)**2, not 1 - tanh(c)"),
                  (1 - tc ** 2, "h = o tanh(c): multiply by o as well")],
        "to_di": [(i * (1 - i), "c = f c_prev + i g: the gradient reaching i is multiplied by g"),
                  (g * (1 - i ** 2), "i is a sigmoid: its derivative is i (1 - i)")],
        "to_df": [(f * (1 - f), "c = f c_prev + i g: the gradient reaching f is multiplied by c_prev"),
                  (tc * f * (1 - f), "f multiplies the previous cell c_prev, not tanh(c)")],
        "to_dg": [(i * g * (1 - g), "g is a tanh, not a sigmoid: its derivative is 1 - g**2"),
                  (1 - g ** 2, "c = f c_prev + i g: the gradient reaching g is multiplied by i")],
    }
    for name, arr, w in zip(NAMES, got, want):
        arr = np.asarray(arr, dtype=float)
        if arr.shape != w.shape:
            raise Mistake(f"{name} has shape {arr.shape}, expected {w.shape}: one number per "
                          f"step, row and hidden unit")
        if np.allclose(arr, w):
            continue
        for wrong, message in hints[name]:
            if np.allclose(arr, wrong):
                raise Mistake(f"{name}: {message}")
        expect_close(arr, w, name, "work it out from c = f c_prev + i g and h = o tanh(c)")


# --- exercise 4: one streaming step ------------------------------------------------------------

def exercise_stream_inputs():
    """Exercise 4's fixed inputs: an LSTM layer (input 2, hidden 3, float64), the stacked
    weights W = [W_h; W_x; b] (3 + 2 + 1, 12) and a sequence x of 6 steps at batch 1."""
    rng = np.random.default_rng(13)
    layer = LSTM(2, 3, dtype=np.float64, rng=rng)
    for p in layer.params.values():
        p[...] += 0.5 * rng.standard_normal(p.shape)
    p = layer.params
    W = np.concatenate([p["W_h"], p["W_x"], p["b"][None]], axis=0)
    return layer, W, rng.standard_normal((1, 6, 2))


def _reference_step(x_t, h, c, W, gates="ifgo", order="hx1", keep_c=True, tanh_c=True,
                    g_act=np.tanh):
    """A streaming step, with the usual mistakes as options (the shared mistaken step)."""
    if order not in ("hx1", "xh1") or g_act not in (np.tanh, sigmoid):
        raise ValueError("order is 'hx1' (right) or 'xh1'; g_act is np.tanh (right) or sigmoid")
    mistake = tuple(name for name, planted in (("x_before_h", order == "xh1"),
                                               ("candidate_sigmoid", g_act is sigmoid),
                                               ("cell_not_kept", not keep_c),
                                               ("h_no_tanh", not tanh_c)) if planted)
    return mistaken.lstm_step(x_t, h, c, {"W": W}, order=gates, mistake=mistake)


def _run(x, W, **mistakes):
    """(1, T, 3) outputs of `_reference_step` over x with the state carried."""
    h, c, out = np.zeros((1, 3)), np.zeros((1, 3)), []
    for t in range(x.shape[1]):
        h, c = _reference_step(x[:, t], h, c, W, **mistakes)
        out.append(h)
    return np.stack(out, axis=1)


@self_check("one product of [h | x | 1] with [W_h; W_x; b] gives all four gates: that is the "
            "stream's step.")
def check_stream_step(step):
    """Exercise 4: `step(x_t, h, c, W)` -> (h, c), one LSTM time step at batch 1 from the
    stacked row [h | x_t | 1] and W = [W_h; W_x; b]. Run over a sequence with the state
    carried, it must give layer.forward's outputs."""
    layer, W, x = exercise_stream_inputs()
    want = layer.forward(x)  # (1, 6, 3)
    h, c = np.zeros((1, 3)), np.zeros((1, 3))
    got = []
    try:
        for t in range(x.shape[1]):
            h, c = step(x[:, t], h, c, W)
            got.append(np.asarray(h, dtype=float))
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        raise Mistake(f"your step raised {type(exc).__name__}: {exc}")
    if got[0].shape != (1, 3):
        raise Mistake(f"h has shape {got[0].shape}, expected (1, 3): (batch, hidden)")
    got = np.stack(got, axis=1)
    if np.allclose(got, want):
        return
    wrong = {"x, h and 1 must be stacked in the order of W's blocks: [h | x | 1]":
             {"order": "xh1"},
             "the blocks of z are the gates in PyTorch's order i, f, g, o": {"gates": "ifog"},
             "the candidate g goes through tanh, not a sigmoid": {"g_act": sigmoid},
             "the new cell keeps f * c_prev: c = f * c + i * g": {"keep_c": False},
             "h = o * tanh(c), not o * c": {"tanh_c": False}}
    for message, kw in wrong.items():
        if np.allclose(got, _run(x, W, **kw)):
            raise Mistake(message)
    if np.allclose(got[:, 0], want[:, 0]):
        raise Mistake("the first step is right but the next ones are not: return the new "
                      "(h, c), so that the next call starts from them")
    expect_close(got, want, "h over the sequence", "compare your first step with the "
                 "equations of chapter 05")
