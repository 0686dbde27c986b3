"""Chapter 06 widget: the cell gradient dc_t back through time, with the highway carry
dc_{t-1} = dc_t * f_t and without it (the "dc not passed back" bug).

A small LSTM (input 1, hidden 8) runs forward with the library's `cells.lstm_step`; its
forget gate is pinned to one value f at every step and in every unit (forget-gate weights set
to zero, bias = logit(f)), so that the cell path multiplies by exactly f per step. The loss is
u . h_T at the last step. Backward runs `cells.lstm_step_backward` step by step, once passing
dc_prev back (correct) and once throwing it away (the bug), and records ||dL/dc_t|| at every
step. Without the carry, c_t gets gradient only through h_t, i.e. through the recurrent weights
W_h and the gate derivatives, which shrinks it quickly.
"""
import numpy as np

from ... import cells
from ...activations import tanh_grad
from . import interact, slider

LOG_FLOOR = 1e-12  # smaller gradients (and exact zeros) are drawn at this value; the readout has them


def forget_logit(forget):
    """The bias that makes sigmoid(bias) == forget (a finite bias of 50 for forget == 1:
    sigmoid(50) is 1.0 exactly in float64)."""
    f = float(forget)
    if not 0.0 < f <= 1.0:
        raise ValueError(f"forget value must be in (0, 1], got {forget}")
    return 50.0 if f >= 1.0 else float(np.log(f / (1.0 - f)))


def network(forget=0.9, length=50, hidden=8, recurrent_scale=0.5, seed=0):
    """The weights W_x (1, 4H), W_h (H, 4H), b (4H,), the input x (1, T, 1) and the unit
    vector u (1, H) of the loss L = u . h_T used by cell_gradients."""
    H = int(hidden)
    rng = np.random.default_rng(seed)
    W_x = rng.standard_normal((1, 4 * H))
    W_h = rng.standard_normal((H, 4 * H)) * recurrent_scale / np.sqrt(H)
    b = rng.standard_normal(4 * H) * 0.1
    W_x[:, H:2 * H] = 0.0  # the forget gate sees neither input nor h ...
    W_h[:, H:2 * H] = 0.0
    b[H:2 * H] = forget_logit(forget)  # ... only its bias: f_t = forget at every step
    x = rng.standard_normal((1, int(length), 1))
    u = rng.standard_normal((1, H))
    return W_x, W_h, b, x, u / np.linalg.norm(u)


def cell_gradients(forget=0.9, length=50, hidden=8, recurrent_scale=0.5, seed=0):
    """||dL/dc_t|| for t = 1..length, with and without the highway carry.

    The network: LSTM(1, hidden), random input and gate weights from `seed`, recurrent weights
    W_h ~ N(0, recurrent_scale^2 / hidden), forget gate pinned to `forget`. Loss L = u . h_T
    with a random unit vector u. Returns a dict of float64 arrays of length `length`:
    carried (correct backward), cut (dc not passed back), cell_path = forget**(T - t) (what the
    carry alone predicts), each divided by ||dL/dc_T||, so every array ends in 1; and the
    forget gate values the forward pass actually used (all equal to `forget`); dc0_carried and
    dc0_cut, the (un-normalised) gradients dL/dc_0 that reach the initial cell state.
    """
    H, T = int(hidden), int(length)
    W_x, W_h, b, x, u = network(forget, T, H, recurrent_scale, seed)

    h, c = np.zeros((1, H)), np.zeros((1, H))
    caches = []
    for t in range(T):
        h, c, cache = cells.lstm_step(x[:, t], h, c, W_x, W_h, b)
        caches.append(cache)

    out = {"forget_values": np.array([cache.f for cache in caches]).ravel()}
    for name, carry in (("carried", True), ("cut", False)):
        dh_next, dc_next = np.zeros((1, H)), np.zeros((1, H))
        norms = np.empty(T)
        for t in range(T - 1, -1, -1):
            cache = caches[t]
            o, tc = cache.o, cache.tanh_c
            dh = dh_next + (u if t == T - 1 else 0.0)
            norms[t] = np.linalg.norm(dc_next + dh * o * tanh_grad(tc))  # the dc of step t
            _, dh_next, dc_prev, _, _, _ = cells.lstm_step_backward(dh, dc_next, cache)
            dc_next = dc_prev if carry else np.zeros_like(dc_prev)  # the bug drops it
        out[name] = norms / norms[-1]
        out["dc0_" + name] = dc_next[0].copy()
    out["cell_path"] = float(forget) ** np.arange(T - 1, -1, -1, dtype=float)
    return out


def plot_cell_gradients(forget=0.9, length=50, recurrent_scale=0.5):
    """The widget's figure: ||dL/dc_t|| relative to the last step, with and without the carry."""
    import matplotlib.pyplot as plt

    r = cell_gradients(forget, length, recurrent_scale=recurrent_scale)
    t = np.arange(1, length + 1)
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=80)

    def floored(a):
        return np.maximum(a, LOG_FLOOR)

    ax.semilogy(t, floored(r["carried"]), marker=".", ms=3, label="correct: dc passed back")
    ax.semilogy(t, floored(r["cut"]), marker=".", ms=3, color="tab:red",
                label="bug: dc not passed back")
    ax.semilogy(t, floored(r["cell_path"]), ls=":", color="k", lw=1,
                label=f"carry alone: $f^{{T-t}}$ = {forget:.2f}$^{{T-t}}$")
    top = max(r["carried"].max(), r["cut"].max(), r["cell_path"].max())
    ax.set_ylim(LOG_FLOOR / 5, max(10.0, 10.0 * top))
    ax.set_xlim(0, length + 1)
    ax.set_xlabel(f"step t (the loss is at the last step T; values below {LOG_FLOOR:.0e} "
                  f"drawn at {LOG_FLOOR:.0e})")
    ax.set_ylabel(r"$\|\partial L/\partial c_t\|$ / $\|\partial L/\partial c_T\|$")
    ax.set_title(f"cell gradient back through time: f = {forget:.2f}, T = {length}, "
                 f"recurrent weight scale {recurrent_scale:.2f}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    return fig


def summary_cell_gradients(forget=0.9, length=50, recurrent_scale=0.5):
    """The widget's readout: how much of the gradient reaches the first step, both ways."""
    r = cell_gradients(forget, length, recurrent_scale=recurrent_scale)

    def num(v):
        if v != 0.0:
            return f"{v:.2e}"
        # with recurrent weights the true value is not 0, only too small for float64
        return "0 (underflow: below 1e-308)" if recurrent_scale > 0 else "exactly 0"

    return (f"f = {forget:.2f}, T = {length}, recurrent scale {recurrent_scale:.2f}: the "
            f"gradient reaching c<sub>1</sub> is <b>{num(r['carried'][0])}</b> of the last "
            f"step's with dc passed back (the carry alone predicts f<sup>{length - 1}</sup> = "
            f"{num(r['cell_path'][0])}) and <b>{num(r['cut'][0])}</b> without it")


def bptt_widget(forget=0.9, length=50, recurrent_scale=0.5):
    """Sliders: forget-gate value, sequence length and recurrent weight scale -> ||dL/dc_t||
    with and without the carry."""
    return interact(plot_cell_gradients, summary_cell_gradients,
                    forget=slider("forget gate f", 0.5, 1.0, 0.01, forget, fmt=".2f"),
                    length=slider("sequence length T", 5, 200, 5, length, integer=True),
                    recurrent_scale=slider("recurrent weight scale", 0.0, 1.5, 0.25,
                                           recurrent_scale, fmt=".2f"))


def draw_backward_through_time(steps=4):
    """The unrolled backward pass (chapter 06): `steps` copies of the cell, the gradients in red.

    Built on `diagram.draw_unrolled(backward=True)`; adds the names of what is carried back
    between two steps (dc_t along the highway, dh_t along h) and the loss's own dh_t entering
    at every output. Returns the Figure.
    """
    from ..diagram import GRAD, U_C, U_GAP, U_H, U_W, draw_unrolled

    fig = draw_unrolled(steps=steps, backward=True,
                        title=f"backpropagation through time over {steps} steps: dc and dh carried back")
    ax = fig.axes[0]
    x_in = 1.3
    for t in range(1, steps + 1):
        x0 = x_in + (t - 1) * (U_W + U_GAP)
        out_x = x0 + U_W - 0.3
        ax.text(out_x - 0.12, 3.95, rf"$\delta h_{t}$", color=GRAD, fontsize=9, ha="right", va="center", zorder=9)
        if t < steps:
            mid = x0 + U_W + U_GAP / 2
            ax.text(mid, U_C - 0.62, rf"$\delta c_{t}$", color=GRAD, fontsize=10, ha="center", va="center", zorder=9)
            ax.text(mid, U_H - 0.55, rf"$\delta h_{t}$", color=GRAD, fontsize=10, ha="center", va="center", zorder=9)
    ax.text(x_in + steps * (U_W + U_GAP) - U_GAP + 0.6, U_C - 0.62, "0", color=GRAD, fontsize=10, ha="right")
    ax.text(x_in + steps * (U_W + U_GAP) - U_GAP + 0.6, U_H - 0.55, "0", color=GRAD, fontsize=10, ha="right")
    return fig
