"""Chapter 13, making it fast: the LSTM layer from its readable form to the library's, one
optimisation at a time, and the tools that show where the time goes.

Every step class computes exactly the same function as `lstm_lib.LSTM` (same parameters
W_x (I, 4H), W_h (H, 4H), b (4H,), gate order i, f, g, o, batch-first input), so each one can
be checked against the next:

    ReadableLSTM            four gates as four separate sets of matrices, a dict cache per
                            step, weight gradients added up step by step
    FusedGatesLSTM          the four gates in one (I, 4H) and one (H, 4H) matrix
    InputProjectionLSTM     + the input part x W_x + b for all steps as one matrix product
    LoopFreeGradsLSTM       + the weight gradients (and dx) as one product after the loop
    lstm_lib.LSTM           + preallocated buffers, `out=`, time-major views, the sigmoid
                            computed by the same tanh call as the candidate, float32

`profile_training_step` splits the time of a training step into matrix products, NumPy call
overhead and elementwise work; `matmul_only_step` runs just the matrix products (the floor).
"""
import time

import numpy as np

from ..activations import sigmoid
from .selfcheck import Mistake, expect_close, self_check


class _StepLSTM:
    """Shared by the step classes: fused parameters, forward(x) -> (B, T, H), backward(dh) -> dx,
    `grads` with the same keys as `params`."""

    def __init__(self, W_x, W_h, b, dtype=np.float64):
        self.params = {"W_x": np.array(W_x, dtype), "W_h": np.array(W_h, dtype),
                       "b": np.array(b, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.hidden_size = self.params["W_h"].shape[0]

    @classmethod
    def from_layer(cls, layer, dtype=np.float64):
        """The same LSTM as the lstm_lib layer `layer` (its current parameters)."""
        p = layer.params
        return cls(p["W_x"], p["W_h"], p["b"], dtype=dtype)


# --- step 0: readable -------------------------------------------------------------------------

class ReadableLSTM(_StepLSTM):
    """Step 0, the way an LSTM is usually first written: for each gate its own W_x?, W_h?, b?,
    eight matrix products per step forward, a dict cache per step, and in backward every
    weight gradient accumulated step by step (16 more matrix products per step)."""

    GATES = "ifgo"

    def __init__(self, W_x, W_h, b, dtype=np.float64):
        super().__init__(W_x, W_h, b, dtype)
        H = self.hidden_size
        self.gate = {}  # gate name -> (W_x, W_h, b), views of the fused arrays
        for k, name in enumerate(self.GATES):
            cols = slice(k * H, (k + 1) * H)
            self.gate[name] = (self.params["W_x"][:, cols], self.params["W_h"][:, cols],
                               self.params["b"][cols])

    def forward(self, x):
        B, T, _ = x.shape
        H = self.hidden_size
        h, c = np.zeros((B, H)), np.zeros((B, H))
        self.caches, outputs = [], []
        for t in range(T):
            xt = x[:, t, :]
            pre = {name: xt @ Wx + h @ Wh + b for name, (Wx, Wh, b) in self.gate.items()}
            i, f, o = sigmoid(pre["i"]), sigmoid(pre["f"]), sigmoid(pre["o"])
            g = np.tanh(pre["g"])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
            self.caches.append({"x": xt, "h_prev": h, "c_prev": c, "i": i, "f": f, "g": g,
                                "o": o, "c": c_new})
            h, c = h_new, c_new
            outputs.append(h)
        return np.stack(outputs, axis=1)

    def backward(self, dh):
        B, T, H = dh.shape
        grads = {name: [np.zeros_like(a) for a in mats] for name, mats in self.gate.items()}
        dx = np.zeros((B, T, self.params["W_x"].shape[0]))
        dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
        for t in reversed(range(T)):
            k = self.caches[t]
            dh_t = dh[:, t, :] + dh_next
            tc = np.tanh(k["c"])
            dc = dc_next + dh_t * k["o"] * (1 - tc ** 2)
            dz = {"i": dc * k["g"] * k["i"] * (1 - k["i"]),
                  "f": dc * k["c_prev"] * k["f"] * (1 - k["f"]),
                  "g": dc * k["i"] * (1 - k["g"] ** 2),
                  "o": dh_t * tc * k["o"] * (1 - k["o"])}
            dc_next = dc * k["f"]
            dh_next = np.zeros((B, H))
            for name, (Wx, Wh, _) in self.gate.items():
                grads[name][0] += k["x"].T @ dz[name]
                grads[name][1] += k["h_prev"].T @ dz[name]
                grads[name][2] += dz[name].sum(axis=0)
                dx[:, t, :] += dz[name] @ Wx.T
                dh_next += dz[name] @ Wh.T
        for j, key in enumerate(("W_x", "W_h", "b")):
            self.grads[key] = np.concatenate([grads[name][j] for name in self.GATES], axis=-1)
        return dx


# --- step 1: fused gates ----------------------------------------------------------------------

class FusedGatesLSTM(_StepLSTM):
    """Step 1: the four gates' weights side by side, so a step needs two matrix products
    (x_t W_x and h W_h, each (.., 4H)) instead of eight, and backward three for the weights."""

    def forward(self, x):
        B, T, _ = x.shape
        H = self.hidden_size
        W_x, W_h, b = self.params["W_x"], self.params["W_h"], self.params["b"]
        h, c = np.zeros((B, H)), np.zeros((B, H))
        self.caches, outputs = [], []
        for t in range(T):
            xt = x[:, t, :]
            z = xt @ W_x + h @ W_h + b  # (B, 4H)
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
            self.caches.append({"x": xt, "h_prev": h, "c_prev": c, "i": i, "f": f, "g": g,
                                "o": o, "c": c_new})
            h, c = h_new, c_new
            outputs.append(h)
        return np.stack(outputs, axis=1)

    def _dz(self, k, dh_t, dc_next):
        """Pre-activation gradients of one step (B, 4H) and dc_{t-1}."""
        tc = np.tanh(k["c"])
        dc = dc_next + dh_t * k["o"] * (1 - tc ** 2)
        dz = np.concatenate([dc * k["g"] * k["i"] * (1 - k["i"]),
                             dc * k["c_prev"] * k["f"] * (1 - k["f"]),
                             dc * k["i"] * (1 - k["g"] ** 2),
                             dh_t * tc * k["o"] * (1 - k["o"])], axis=1)
        return dz, dc * k["f"]

    def backward(self, dh):
        B, T, H = dh.shape
        W_x, W_h = self.params["W_x"], self.params["W_h"]
        g = {key: np.zeros_like(v) for key, v in self.params.items()}
        dx = np.zeros((B, T, W_x.shape[0]))
        dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
        for t in reversed(range(T)):
            k = self.caches[t]
            dz, dc_next = self._dz(k, dh[:, t, :] + dh_next, dc_next)
            g["W_x"] += k["x"].T @ dz  # weight gradients, step by step
            g["W_h"] += k["h_prev"].T @ dz
            g["b"] += dz.sum(axis=0)
            dx[:, t, :] = dz @ W_x.T
            dh_next = dz @ W_h.T
        self.grads = g
        return dx


# --- step 2: one input projection -------------------------------------------------------------

class InputProjectionLSTM(FusedGatesLSTM):
    """Step 2: x_t W_x + b does not depend on h, so compute it for every step at once, one
    (B*T, I) x (I, 4H) product before the loop; the loop keeps only h W_h."""

    def forward(self, x):
        B, T, I = x.shape
        H = self.hidden_size
        W_h = self.params["W_h"]
        Zx = (x.reshape(B * T, I) @ self.params["W_x"] + self.params["b"]).reshape(B, T, 4 * H)
        h, c = np.zeros((B, H)), np.zeros((B, H))
        self.caches, outputs = [], []
        for t in range(T):
            z = Zx[:, t, :] + h @ W_h
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
            self.caches.append({"x": x[:, t, :], "h_prev": h, "c_prev": c, "i": i, "f": f,
                                "g": g, "o": o, "c": c_new})
            h, c = h_new, c_new
            outputs.append(h)
        return np.stack(outputs, axis=1)


# --- step 3: weight gradients after the loop --------------------------------------------------

class LoopFreeGradsLSTM(InputProjectionLSTM):
    """Step 3: the loop only carries dh and dc back and stores each step's dz; the weight
    gradients and dx are then one big product each: dW_x = X^T dZ, dW_h = H_prev^T dZ,
    db = sum of dZ, dx = dZ W_x^T."""

    def backward(self, dh):
        B, T, H = dh.shape
        W_x, W_h = self.params["W_x"], self.params["W_h"]
        I = W_x.shape[0]
        dZ = np.empty((B, T, 4 * H))
        dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
        for t in reversed(range(T)):
            dz, dc_next = self._dz(self.caches[t], dh[:, t, :] + dh_next, dc_next)
            dZ[:, t, :] = dz
            dh_next = dz @ W_h.T
        X = np.stack([k["x"] for k in self.caches], axis=1).reshape(B * T, I)
        H_prev = np.stack([k["h_prev"] for k in self.caches], axis=1).reshape(B * T, H)
        dZ2 = dZ.reshape(B * T, 4 * H)
        self.grads = {"W_x": X.T @ dZ2, "W_h": H_prev.T @ dZ2, "b": dZ2.sum(axis=0)}
        return (dZ2 @ W_x.T).reshape(B, T, I)


STEPS = {  # the chapter's steps in order; the last two are lstm_lib.LSTM itself
    "0 readable": ReadableLSTM,
    "1 fused gates": FusedGatesLSTM,
    "2 one input projection": InputProjectionLSTM,
    "3 weight grads after loop": LoopFreeGradsLSTM,
}


# --- where the time goes ----------------------------------------------------------------------

def training_step(layer, x, dh):
    """A function that runs one forward + backward of `layer` (any of the classes above or an
    lstm_lib recurrent layer)."""
    def step():
        layer.forward(x)
        return layer.backward(dh)
    return step


def matmul_only_step(layer, x):
    """A function doing only the matrix products of one training step of the lstm_lib
    recurrent `layer` on input x (B, T, I), with the same shapes, dtype and `out=` buffers:
    the input projection, T products with W_h forward and T with W_h^T backward, the two
    weight-gradient products and dx. Its time is the floor for the whole step."""
    B, T, I = x.shape
    H, G = layer.hidden_size, layer.gates * layer.hidden_size
    dt = layer.dtype
    W_x, W_h = layer.params["W_x"], layer.params["W_h"]
    X = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dt).reshape(T * B, I)
    Z = np.zeros((T * B, G), dt)
    Hs = np.zeros((T + 1, B, H), dt)
    gh, dh = np.zeros((B, G), dt), np.zeros((B, H), dt)
    dGx, dW_x, dW_h = np.zeros((T * B, G), dt), np.zeros((I, G), dt), np.zeros((H, G), dt)
    dx = np.zeros((T * B, I), dt)
    W_hT = np.ascontiguousarray(W_h.T)  # as the layers do
    dG = dGx.reshape(T, B, G)

    def step():
        if I == 1:
            np.multiply(X, W_x[0], out=Z)
        else:
            np.matmul(X, W_x, out=Z)
        for h_prev in Hs[:-1]:
            np.matmul(h_prev, W_h, out=gh)
        for d in dG[::-1]:
            np.matmul(d, W_hT, out=dh)
        np.matmul(X.T, dGx, out=dW_x)
        np.matmul(Hs[:-1].reshape(T * B, H).T, dGx, out=dW_h)
        np.matmul(dGx, W_x.T, out=dx)
    return step


def _per_call(fn, number, clock):
    t0 = clock()
    for _ in range(number):
        fn()
    return (clock() - t0) / number


def profile_training_step(layer_cls, B, T, I, H, dtype=np.float32, repeat=5, number=3, seed=0,
                          clock=time.perf_counter):
    """Split the time of one training step (forward + backward) of `layer_cls` (lstm_lib.LSTM,
    GRU or RNN) at (batch, time, input, hidden) into three parts, in seconds:

    - "matmul": the matrix products alone (`matmul_only_step`), the floor;
    - "overhead": the cost of all the other Python lines and NumPy calls, measured by running
      the same code at batch = input = hidden = 1 and the same T (arrays too small to cost
      anything), minus the matrix products at that size;
    - "elementwise": the rest, total - matmul - overhead (gates, state updates, copies).

    Each is the best (minimum) of `repeat` interleaved measurements of `number` calls: the
    least disturbed run is the best estimate of what the code itself costs.
    Returns a dict with these, "total", and "per_step_us" (each part / T in microseconds).
    """
    rng = np.random.default_rng(seed)
    layer = layer_cls(I, H, dtype=dtype, rng=rng)
    tiny = layer_cls(1, 1, dtype=dtype, rng=rng)
    x = rng.standard_normal((B, T, I)).astype(dtype)
    dh = rng.standard_normal((B, T, H)).astype(dtype)
    x1 = rng.standard_normal((1, T, 1)).astype(dtype)
    dh1 = rng.standard_normal((1, T, 1)).astype(dtype)
    fns = {"total": training_step(layer, x, dh), "matmul": matmul_only_step(layer, x),
           "tiny": training_step(tiny, x1, dh1), "tiny_matmul": matmul_only_step(tiny, x1)}
    for fn in fns.values():  # warm up
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeat):  # interleaved, so a busy moment hits all of them alike
        for k, fn in fns.items():
            times[k].append(_per_call(fn, number, clock))
    res = {k: float(np.min(v)) for k, v in times.items()}
    res["overhead"] = max(0.0, res.pop("tiny") - res.pop("tiny_matmul"))
    res["elementwise"] = max(0.0, res["total"] - res["matmul"] - res["overhead"])
    res["per_step_us"] = {k: res[k] / T * 1e6 for k in ("total", "matmul", "overhead", "elementwise")}
    return res


# --- a cost model of one time step (the chapter's widget) -------------------------------------

def step_time_model(batch, hidden, input_size=1, overhead_us=15.0, gflops=50.0, elem_ns=15.0):
    """Predicted microseconds per time step (forward + backward) of the fast LSTM layer, in
    three parts: a fixed cost for the Python lines and NumPy calls (`overhead_us`), the matrix
    products at `gflops` (6 * batch * 4 hidden * (input + hidden) operations), and the
    elementwise work, `elem_ns` nanoseconds per batch row and hidden unit.
    `hidden` may be an array. Returns a dict of arrays/floats."""
    hidden = np.asarray(hidden, dtype=float)
    flops = 6.0 * batch * 4 * hidden * (input_size + hidden)
    return {"overhead": np.full_like(hidden, overhead_us), "matmul": flops / (gflops * 1e3),
            "elementwise": batch * hidden * elem_ns / 1e3}


def crossover_hidden(batch, input_size=1, overhead_us=15.0, gflops=50.0, elem_ns=15.0):
    """The hidden size at which the matrix products start to cost more than the overhead."""
    hs = np.arange(1, 4097)
    m = step_time_model(batch, hs, input_size, overhead_us, gflops, elem_ns)
    above = np.nonzero(m["matmul"] > m["overhead"])[0]
    return int(hs[above[0]]) if len(above) else None


def plot_step_time(batch=32, overhead_us=15.0, gflops=50.0, input_size=1, elem_ns=15.0):
    """Stacked shares of one step's time against the hidden size (log axis)."""
    import matplotlib.pyplot as plt
    hs = np.unique(np.geomspace(4, 2048, 120).astype(int))
    m = step_time_model(batch, hs, input_size, overhead_us, gflops, elem_ns)
    total = m["overhead"] + m["matmul"] + m["elementwise"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=80)
    ax1.stackplot(hs, 100 * m["overhead"] / total, 100 * m["elementwise"] / total,
                  100 * m["matmul"] / total, labels=["Python + NumPy calls", "elementwise",
                                                     "matrix products"],
                  colors=["#d95f02", "#7570b3", "#1b9e77"], alpha=0.85)
    ax1.set(xscale="log", xlabel="hidden size H", ylabel="share of a step's time (%)",
            ylim=(0, 100), title=f"batch {batch}")
    ax1.legend(loc="lower left", fontsize=8)
    for k, c in (("overhead", "#d95f02"), ("elementwise", "#7570b3"), ("matmul", "#1b9e77")):
        ax2.plot(hs, m[k], color=c, label=k)
    ax2.plot(hs, total, "k--", label="total")
    ax2.set(xscale="log", yscale="log", xlabel="hidden size H", ylabel="microseconds per step",
            title="time per step (model)")
    ax2.legend(fontsize=8)
    cross = crossover_hidden(batch, input_size, overhead_us, gflops, elem_ns)
    if cross is not None:
        for ax in (ax1, ax2):
            ax.axvline(cross, color="gray", lw=1, ls=":")
    fig.tight_layout()
    return fig


def step_time_summary(batch=32, overhead_us=15.0, gflops=50.0, input_size=1, elem_ns=15.0):
    """The widget's readout: where the matrix products take over."""
    cross = crossover_hidden(batch, input_size, overhead_us, gflops, elem_ns)
    m = step_time_model(batch, 128, input_size, overhead_us, gflops, elem_ns)
    total = float(m["overhead"] + m["matmul"] + m["elementwise"])
    where = (f"the matrix products cost more than the calls from H = {cross} on"
             if cross is not None else "the calls cost more than the products for every H up to 4096")
    return (f"batch {batch}: {where}; at H = 128 a step takes about {total:.0f} µs, "
            f"{100 * float(m['overhead']) / total:.0f}% of it in Python and NumPy calls")


# --- exercise self-checks ---------------------------------------------------------------------

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


def lstm_training_flops(batch, time, input_size, hidden):
    """Floating-point operations of the matrix products of one LSTM training step."""
    return 6 * batch * time * 4 * hidden * (input_size + hidden)


@self_check("that is the count: 2 B T 4H (I + H) forward, twice that backward.")
def check_training_flops(answer):
    """Exercise 2: the matrix-product FLOPs of one training step at B, T, I, H = 8, 10, 3, 16."""
    B, T, I, H = 8, 10, 3, 16
    want = lstm_training_flops(B, T, I, H)
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
