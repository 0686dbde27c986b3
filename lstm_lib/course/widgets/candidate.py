"""Chapter 03: the candidate c~ = tanh(...), what the LSTM proposes to write, and the input
gate i = sigmoid(...), how much of it is written: the change to the cell is i * c~.

One scalar input x drives both: c~ = tanh(w_g x + b_g), i = sigmoid(w_i x + b_i). The forget
gate is held at f (1 by default) so the change is all that moves the cell. `plot_cell_walks`
draws the random-walk experiment the chapter computes in the open.
"""
import numpy as np

from ...activations import sigmoid
from . import interact, slider


def candidate_write(x=1.0, w_g=1.5, w_i=2.0, b_i=0.0, b_g=0.0, c_prev=0.5, f=1.0):
    """One write: returns dict(g=c~, i=gate, change=i*c~, c_prev, c=f*c_prev + i*c~).
    Works elementwise when x is an array."""
    x = np.asarray(x, dtype=float)
    g = np.tanh(w_g * x + b_g)
    i = sigmoid(w_i * x + b_i)
    change = i * g
    return {"g": g, "i": i, "change": change, "c_prev": c_prev, "c": f * c_prev + change}


def plot_tanh_vs_sigmoid():
    """tanh (the candidate) next to sigmoid (the gates): range and centre."""
    import matplotlib.pyplot as plt

    z = np.linspace(-5, 5, 201)
    fig, ax = plt.subplots(figsize=(6, 2.8), dpi=80)
    ax.plot(z, np.tanh(z), label=r"$\tanh(z)$: candidate, in $(-1, 1)$, centred at 0")
    ax.plot(z, sigmoid(z), "--", label=r"$\sigma(z)$: gate, in $(0, 1)$, centred at 0.5")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("pre-activation z")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_cell_walks(walks, walks_forget, mean_square, f_forget, shown=20):
    """Cells under random writes, one row per seed (seeds, steps + 1). Left: `shown` walks with
    f = 1, their measured spread and sqrt(t * mean_square). Right: the spread over time for
    f = 1 and for f = f_forget (`walks_forget`)."""
    import matplotlib.pyplot as plt

    t = np.arange(walks.shape[1])
    spread, spread_forget = walks.std(axis=0), walks_forget.std(axis=0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.2, 3.2), dpi=80)
    left.plot(t, walks[:shown].T, color="gray", lw=0.6, alpha=0.6)
    left.plot(t, walks[0], color="tab:blue", lw=1.5, label="the first seed")
    left.fill_between(t, -spread, spread, color="tab:orange", alpha=0.25,
                      label=rf"$\pm$ std over {len(walks)} seeds")
    left.plot(t, np.sqrt(t * mean_square), "k--", lw=1, label=r"$\pm\sqrt{t\,E[w^2]}$")
    left.plot(t, -np.sqrt(t * mean_square), "k--", lw=1)
    left.set_xlabel("step t")
    left.set_ylabel("$c_t$ (f = 1)")
    left.legend(fontsize=7, loc="upper left")
    right.plot(t, spread, color="tab:orange", label="f = 1: measured")
    right.plot(t, np.sqrt(t * mean_square), "k--", lw=1, label=r"f = 1: $\sqrt{t\,E[w^2]}$")
    right.plot(t, spread_forget, color="tab:green", label=f"f = {f_forget:g}: measured")
    right.set_xlabel("step t")
    right.set_ylabel("spread of $c_t$ (std over seeds)")
    right.legend(fontsize=7, loc="upper left")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_candidate(x=1.0, w_g=1.5, w_i=2.0, b_i=0.0, c_prev=0.5):
    """The widget's figure. Left: c~, i and the change i*c~ against x, the chosen x marked.
    Right: the cell before, the change, the cell after."""
    import matplotlib.pyplot as plt

    grid = np.linspace(-3, 3, 121)
    curve = candidate_write(grid, w_g, w_i, b_i, c_prev=c_prev)
    now = candidate_write(x, w_g, w_i, b_i, c_prev=c_prev)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80,
                                      gridspec_kw={"width_ratios": [2, 1]})
    left.plot(grid, curve["g"], label=r"candidate $\tilde c = \tanh(w_g x)$")
    left.plot(grid, curve["i"], "--", label=r"input gate $i = \sigma(w_i x + b_i)$")
    left.plot(grid, curve["change"], lw=2.5, label=r"written $i \cdot \tilde c$")
    left.axvline(x, color="gray", ls=":")
    left.axhline(0, color="k", lw=0.5)
    left.set_ylim(-1.05, 1.05)
    left.set_xlabel("input x")
    left.grid(alpha=0.3)
    left.legend(fontsize=7, loc="lower right")
    vals = [c_prev, float(now["change"]), float(now["c"])]
    colors = ["gray", "tab:green" if vals[1] >= 0 else "tab:red", "tab:blue"]
    right.bar(["$c_{t-1}$", "change", "$c_t$"], vals, color=colors)
    right.axhline(0, color="k", lw=0.5)
    right.set_ylim(-1.6, 1.6)
    right.set_title(f"x = {x:.2f}", fontsize=9)
    right.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def summary_candidate(x=1.0, w_g=1.5, w_i=2.0, b_i=0.0, c_prev=0.5):
    """The widget's readout."""
    w = candidate_write(x, w_g, w_i, b_i, c_prev=c_prev)
    g, i, change = float(w["g"]), float(w["i"]), float(w["change"])
    verb = "adds to" if change > 1e-3 else ("subtracts from" if change < -1e-3 else "leaves")
    return (f"x = {x:.2f}: candidate c~ = <b>{g:.3f}</b>, input gate i = <b>{i:.3f}</b>, "
            f"written i&middot;c~ = <b>{change:+.3f}</b>: it {verb} the cell, "
            f"{c_prev:.3f} &rarr; {float(w['c']):.3f}")


def candidate_widget(x=1.0, w_g=1.5, w_i=2.0, b_i=0.0):
    """Sliders: input value and the weights -> c~, i and the change written to the cell."""
    return interact(plot_candidate, summary_candidate,
                    x=slider("input x", -3.0, 3.0, 0.1, x),
                    w_g=slider("candidate weight w_g", -3.0, 3.0, 0.1, w_g),
                    w_i=slider("input-gate weight w_i", -3.0, 3.0, 0.1, w_i),
                    b_i=slider("input-gate bias b_i", -6.0, 6.0, 0.5, b_i))
