"""Self-checks for chapter 13 (making it fast)."""
import numpy as np

from ...activations import sigmoid
from ...lstm import LSTM
from ...profiling import matmul_flops
from ..selfcheck import Mistake, expect_close, self_check


@self_check("one tanh call gives the sigmoid: sigma(z) = 0.5 * tanh(0.5 * z) + 0.5.")
def check_sigmoid_via_tanh(fn):
    """Exercise 1: `fn(z)` computes the sigmoid with np.tanh and no np.exp."""
    z = np.linspace(-30, 30, 61)
    try:
        got = fn(z.copy())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
    want = sigmoid(z)
    got = np.asarray(got, dtype=float)
    if got.shape != z.shape:
        raise Mistake(f"the result has shape {got.shape}, expected {z.shape}, the shape of z")
    if np.allclose(got, np.tanh(z)):
        raise Mistake("that is tanh(z) itself: scale and shift it, 0.5 * tanh(0.5 * z) + 0.5")
    if np.allclose(got, 0.5 * np.tanh(z) + 0.5):
        raise Mistake("the argument needs halving too: tanh(0.5 * z), not tanh(z)")
    if np.allclose(got, np.tanh(0.5 * z)):
        raise Mistake("tanh(0.5 z) runs from -1 to 1: map it to 0..1 with * 0.5 + 0.5")
    expect_close(got, want, "your sigmoid", "compare with 1 / (1 + exp(-z)) at z = 0 (0.5)")


@self_check("that is the count: 2 B T 4H (I + H) forward, twice that backward.")
def check_training_flops(answer):
    """Exercise 2: the matrix-product FLOPs of one training step at B, T, I, H = 8, 10, 3, 16."""
    B, T, I, H = 8, 10, 3, 16
    want = matmul_flops(4, B, T, I, H)
    try:
        got = float(answer)
    except (TypeError, ValueError):
        raise Mistake(f"the answer should be a number, got {type(answer).__name__}")
    if got == want:
        return
    wrong = {want / 3: "that is the forward pass only: backward needs two products per forward "
                       "product (one for the input gradient, one for the weights), so x3",
             want / 2: "each multiply-add is two operations: an (m, k) x (k, n) product costs "
                       "2 m k n",
             want / 4: "the gates are 4H columns wide, not H",
             want / 6: "count both: 2 operations per multiply-add, and backward = 2 x forward",
             6 * B * T * 4 * H * H: "the input part x W_x counts too: (I + H), not H"}
    for value, message in wrong.items():
        if got == value:
            raise Mistake(message)
    raise Mistake(f"{got:.0f} is not it: count x_t W_x and h W_h for every step, forward and "
                  f"backward")


def exercise_dz_inputs():
    """Exercise 3's fixed inputs: per-step h_prev (B, H) and dz (B, 4H) lists, T = 5."""
    rng = np.random.default_rng(13)
    T, B, H = 5, 3, 2
    return ([rng.standard_normal((B, H)) for _ in range(T)],
            [rng.standard_normal((B, 4 * H)) for _ in range(T)])


@self_check("one product after the loop gives the same dW_h as T products inside it.")
def check_dW_h_after_loop(dW_h):
    """Exercise 3: dW_h = sum_t h_prev_t^T dz_t as one matrix product of stacked arrays."""
    hs, dzs = exercise_dz_inputs()
    want = sum(h.T @ dz for h, dz in zip(hs, dzs))
    got = np.asarray(dW_h, dtype=float)
    if got.shape == want.T.shape and got.shape != want.shape:
        raise Mistake(f"dW_h has shape {got.shape}, expected {want.shape}: it is "
                      f"H_prev^T @ dZ, (H, T*B) x (T*B, 4H)")
    if got.shape != want.shape:
        raise Mistake(f"dW_h has shape {got.shape}, expected {want.shape} (H, 4H)")
    if np.allclose(got, want / len(hs)):
        raise Mistake("that is the mean over steps: the gradient is the sum")
    if np.allclose(got, hs[-1].T @ dzs[-1]):
        raise Mistake("only the last step is in it: stack all T steps before the product")
    expect_close(got, want, "dW_h", "stack h_prev and dz over time, then one product")


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
    """A streaming step, with the usual mistakes as options."""
    H = h.shape[1]
    parts = {"h": h, "x": x_t, "1": np.ones((h.shape[0], 1))}
    row = np.concatenate([parts[k] for k in order], axis=1)
    z = row @ W
    blocks = {name: z[:, k * H:(k + 1) * H] for k, name in enumerate(gates)}
    i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
    g = g_act(blocks["g"])
    c = (f * c if keep_c else 0) + i * g
    return o * (np.tanh(c) if tanh_c else c), c


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
