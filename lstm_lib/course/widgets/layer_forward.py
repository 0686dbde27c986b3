"""Chapter 05 widget: one step of one LSTM unit, every intermediate number visible.

A single unit (input size 1, hidden size 1) with fixed, hand-picked weights takes one step
through the library's readable `cells.lstm_step`. Sliders set the input x_t, the previous
hidden state h_{t-1}, the previous cell state c_{t-1} and the forget-gate bias; the figure
shows the four gate values i, f, g, o and how c_t = f c_{t-1} + i g and h_t = o tanh(c_t)
are put together from them.
"""
import numpy as np

from ... import cells
from . import interact, slider

GATES = ("i", "f", "g", "o")

# One row per input (x_t, then h_{t-1}), one column per gate block i, f, g, o. Chosen so that each
# slider visibly moves something: a positive input opens the input gate and proposes a positive
# candidate, and closes the forget gate a little; h_{t-1} pushes the candidate the other way.
W_X = np.array([[1.5, -0.5, 2.0, 1.0]])
W_H = np.array([[0.5, 0.5, -1.5, 0.5]])


def cell_step(x=1.0, h_prev=0.0, c_prev=0.5, forget_bias=1.0):
    """One LSTM step of the unit above. Returns a dict of floats: the pre-activations z_i, z_f,
    z_g, z_o, the gates i, f, g, o, c_prev, kept = f c_prev, written = i g, c (= kept + written)
    and h = o tanh(c)."""
    b = np.array([0.0, forget_bias, 0.0, 0.0])
    xt = np.array([[float(x)]])
    hp = np.array([[float(h_prev)]])
    cp = np.array([[float(c_prev)]])
    z = (xt @ W_X + hp @ W_H + b)[0]
    h, c, cache = cells.lstm_step(xt, hp, cp, W_X, W_H, b)
    out = {f"z_{k}": float(v) for k, v in zip(GATES, z)}
    out.update({k: float(v[0, 0]) for k, v in zip(GATES, (cache.i, cache.f, cache.g, cache.o))})
    out.update(c_prev=float(c_prev), kept=out["f"] * float(c_prev), written=out["i"] * out["g"],
               c=float(c[0, 0]), h=float(h[0, 0]))
    return out


def plot_cell_step(x=1.0, h_prev=0.0, c_prev=0.5, forget_bias=1.0):
    """The widget's figure: the four gate values (left) and the parts of c_t and h_t (right)."""
    import matplotlib.pyplot as plt

    s = cell_step(x, h_prev, c_prev, forget_bias)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80,
                                      gridspec_kw={"width_ratios": [1, 1.3]})
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    names = ["input i", "forget f", "candidate g", "output o"]
    values = [s[k] for k in GATES]
    left.bar(names, values, color=colors)
    for k, v in enumerate(values):
        left.text(k, v + (0.05 if v >= 0 else -0.12), f"{v:.3f}", ha="center", fontsize=9)
    left.axhline(0, color="k", lw=0.8)
    left.axhline(1, color="gray", lw=0.8, ls=":")
    left.axhline(-1, color="gray", lw=0.8, ls=":")
    left.set_ylim(-1.2, 1.2)
    left.set_title("gates: i, f, o in (0, 1), g in (-1, 1)", fontsize=10)
    left.tick_params(axis="x", labelsize=8)
    left.grid(alpha=0.3, axis="y")

    parts = [r"$c_{t-1}$", r"$f\,c_{t-1}$" + "\nkept", r"$i\,g$" + "\nwritten",
             r"$c_t$" + "\n= kept + written", r"$h_t = o \tanh c_t$"]
    vals = [s["c_prev"], s["kept"], s["written"], s["c"], s["h"]]
    pcolors = ["lightgray", "tab:orange", "tab:green", "tab:purple", "tab:red"]
    right.bar(range(5), vals, color=pcolors)
    for k, v in enumerate(vals):
        right.text(k, v + (0.06 if v >= 0 else -0.2), f"{v:.3f}", ha="center", fontsize=9)
    right.set_xticks(range(5))
    right.set_xticklabels(parts, fontsize=8)
    right.axhline(0, color="k", lw=0.8)
    lim = max(2.2, max(abs(v) for v in vals) + 0.4)
    right.set_ylim(-lim, lim)
    right.set_title("cell and hidden state after the step", fontsize=10)
    right.grid(alpha=0.3, axis="y")
    fig.suptitle(f"$x_t$ = {x:.1f}, $h_{{t-1}}$ = {h_prev:.1f}, $c_{{t-1}}$ = {c_prev:.1f}, "
                 f"forget bias = {forget_bias:.1f}", fontsize=10)
    fig.tight_layout()
    return fig


def summary_cell_step(x=1.0, h_prev=0.0, c_prev=0.5, forget_bias=1.0):
    """The widget's readout: the gate values and the two sums that make c_t and h_t."""
    s = cell_step(x, h_prev, c_prev, forget_bias)
    return (f"i = <b>{s['i']:.3f}</b>, f = <b>{s['f']:.3f}</b>, g = <b>{s['g']:.3f}</b>, "
            f"o = <b>{s['o']:.3f}</b>; "
            f"c<sub>t</sub> = f·c<sub>t-1</sub> + i·g = {s['f']:.3f}·{s['c_prev']:.2f} + "
            f"{s['i']:.3f}·{s['g']:.3f} = {s['kept']:.3f} + {s['written']:.3f} = "
            f"<b>{s['c']:.3f}</b>; h<sub>t</sub> = o·tanh(c<sub>t</sub>) = <b>{s['h']:.3f}</b>")


def cell_step_widget(x=1.0, h_prev=0.0, c_prev=0.5, forget_bias=1.0):
    """Sliders: input, previous h, previous c and forget bias -> the gates, c_t and h_t."""
    return interact(plot_cell_step, summary_cell_step,
                    x=slider("input x_t", -3.0, 3.0, 0.1, x, fmt=".1f"),
                    h_prev=slider("previous h_{t-1}", -1.0, 1.0, 0.1, h_prev, fmt=".1f"),
                    c_prev=slider("previous c_{t-1}", -2.0, 2.0, 0.1, c_prev, fmt=".1f"),
                    forget_bias=slider("forget-gate bias", -4.0, 4.0, 0.5, forget_bias,
                                       fmt=".1f"))
