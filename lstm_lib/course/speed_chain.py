"""Chapter 13's chain: from the readable LSTM layer to the library's fast one, one change at
a time, each a layer computing exactly the same function.

    reference.ReferenceLSTM    the readable layer of chapters 05-06: fused gates, one step at
                               a time with `cells.lstm_step`, x_t W_x + h W_h + b in every
                               step, weight gradients added up step by step
    InputProjectionLSTM        + x W_x + b for all steps as one matrix product before the loop
    LoopFreeGradsLSTM          + the weight gradients and dx as one product each after the loop
    lstm_lib.LSTM              + work arrays allocated once and `out=`, time-major views, one
                               tanh call for all four gates, the backward's multipliers for
                               all steps before the loop (then float32, then two threads)

Each class subclasses the one before and changes one method; the tests hold every one of
them equal to `lstm_lib.LSTM` in float64.
"""
import numpy as np

from ..activations import sigmoid
from ..cells import LSTMStepCache
from ..reference import ReferenceLSTM


class InputProjectionLSTM(ReferenceLSTM):
    """Step 1: x_t W_x + b does not depend on h, so it is computed for every step at once, one
    (B*T, I) x (I, 4H) product before the loop; the loop keeps only h W_h. Backward is the
    readable one (it reads the same named step caches)."""

    def forward(self, x, h0=None, c0=None):
        B, T, I = x.shape
        H = self.hidden_size
        W_x, W_h, b = self.params["W_x"], self.params["W_h"], self.params["b"]
        Zx = (x.reshape(B * T, I) @ W_x + b).reshape(B, T, 4 * H)  # all steps' input part
        h0, c0 = self._start_state([h0, c0], B)  # the state carried from the last call, if any
        h = np.zeros((B, H), self.dtype) if h0 is None else h0
        c = np.zeros((B, H), self.dtype) if c0 is None else c0
        out, caches = np.empty((B, T, H), self.dtype), []
        for t in range(T):
            z = Zx[:, t] + h @ W_h  # (B, 4H): the only product left in the loop
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c_new = f * c + i * g
            tc = np.tanh(c_new)
            caches.append(LSTMStepCache(x[:, t], h, c, i, f, g, o, tc, W_x, W_h))
            h, c = o * tc, c_new
            out[:, t] = h
        self._cache = caches
        self._end_state(h, c)
        return out


class LoopFreeGradsLSTM(InputProjectionLSTM):
    """Step 2: the loop only carries dh and dc back and keeps each step's dz; the weight
    gradients and dx are then one large product each: dW_x = X^T dZ, dW_h = H_prev^T dZ,
    db = the sum of dZ, dx = dZ W_x^T."""

    def backward(self, dh, dh_T=None, dc_T=None):
        caches = self._need_cache()
        B, T, H = dh.shape
        W_x, W_h = self.params["W_x"], self.params["W_h"]
        dZ = np.empty((B, T, 4 * H))
        dh_next = np.zeros((B, H)) if dh_T is None else dh_T
        dc_next = np.zeros((B, H)) if dc_T is None else dc_T
        for t in reversed(range(T)):
            dZ[:, t], dc_next = self.gates_backward(dh[:, t] + dh_next, dc_next, caches[t])
            dh_next = dZ[:, t] @ W_h.T
        X = np.stack([k.x for k in caches], axis=1).reshape(B * T, -1)  # (B*T, I)
        H_prev = np.stack([k.h_prev for k in caches], axis=1).reshape(B * T, H)
        dZ2 = dZ.reshape(B * T, 4 * H)
        self.grads.update(W_x=X.T @ dZ2, W_h=H_prev.T @ dZ2, b=dZ2.sum(axis=0))
        self.dstate0 = (dh_next, dc_next)
        return (dZ2 @ W_x.T).reshape(B, T, -1)


STEPS = {  # the chapter's chain in order; after it comes lstm_lib.LSTM itself
    "0 readable (ReferenceLSTM)": ReferenceLSTM,
    "1 one input projection": InputProjectionLSTM,
    "2 weight grads after the loop": LoopFreeGradsLSTM,
}


def chain_step(version, batch, time, input, hidden, seed=0):
    """A function running one training step (forward + backward) of a version of the chain,
    for `lstm_lib.timing.rounds_alone`: `version` is a key of STEPS, "lstm_lib float64" or
    "lstm_lib float32" (lstm_lib.LSTM). All versions get the same weights and data."""
    from ..lstm import LSTM
    from ..profiling import training_step
    rng = np.random.default_rng(seed)
    base = LSTM(input, hidden, dtype=np.float64, rng=rng)
    x = rng.standard_normal((batch, time, input))
    dy = rng.standard_normal((batch, time, hidden))
    if version in STEPS:
        return training_step(STEPS[version].from_layer(base), x, dy)
    dtype = {"lstm_lib float64": np.float64, "lstm_lib float32": np.float32}[version]
    layer = LSTM(input, hidden, dtype=dtype)
    for k, v in base.params.items():
        layer.params[k][...] = v
    return training_step(layer, x.astype(dtype), dy.astype(dtype))


# The chain as the chapter draws it: (box title, what changes, where it is in the code).
CHAIN = (
    ("0 readable", "one lstm_step per step;\nboth products in every\nstep; weight grads\nadded step by step",
     "ReferenceLSTM"),
    ("1 input projection", "x W_x + b for all\nsteps: one product\nbefore the loop",
     "InputProjectionLSTM"),
    ("2 grads after the loop", "dW_x, dW_h, db, dx:\none product each\nafter the loop",
     "LoopFreeGradsLSTM"),
    ("3 the library's loop", "arrays allocated once, out=;\ntime-major views; one tanh\nfor all gates; backward's\nmultipliers before the loop",
     "lstm_lib.LSTM float64"),
    ("4 float32", "half the bytes;\ntwice the numbers per\nvector instruction",
     "lstm_lib.LSTM float32"),
)


def draw_chain(highlight=None):
    """Chapter 13's drawing: the chain from the readable layer to the fast one, one box per
    step (its name, what it changes, its class), an arrow from each to the next. `highlight`:
    the index of a box to colour. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    n = len(CHAIN)
    fig, ax = plt.subplots(figsize=(11, 2.9), dpi=80)
    ax.set(xlim=(0, n * 2.2), ylim=(0, 3.0))
    ax.axis("off")
    for k, (title, change, where) in enumerate(CHAIN):
        x0 = 0.1 + 2.2 * k
        face = "#fdd9b5" if highlight == k else ("#e8f4ee" if k else "#eeeeee")
        ax.add_patch(FancyBboxPatch((x0, 0.35), 1.8, 2.3, boxstyle="round,pad=0.04",
                                    fc=face, ec="#1b9e77" if k else "#888888", lw=1.5))
        ax.text(x0 + 0.9, 2.4, title, ha="center", va="center", fontsize=10, weight="bold")
        ax.text(x0 + 0.9, 1.5, change, ha="center", va="center", fontsize=8, linespacing=1.3)
        ax.text(x0 + 0.9, 0.58, where, ha="center", va="center", fontsize=7.5, family="monospace",
                color="#555555")
        if k:
            ax.add_patch(FancyArrowPatch((x0 - 0.38, 1.5), (x0 - 0.02, 1.5), arrowstyle="-|>",
                                         mutation_scale=14, color="#1b9e77", lw=1.5))
    ax.set_title("from the readable layer to the fast one: each step keeps the last and changes one "
                 "thing, and all compute the same numbers", fontsize=10)
    fig.tight_layout()
    return fig
