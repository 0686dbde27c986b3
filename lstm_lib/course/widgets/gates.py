"""Chapter 02: gates as soft switches, seen on one LSTM unit fed a single input pulse.

The unit has no recurrent weights (W_h = 0), so each gate is set by its bias alone, except
that the pulse itself proposes the candidate c~ = tanh(w * x_t) and an optional second input
can open the output gate later. Everything runs through the library's `cells.lstm_step`.
"""
import numpy as np

from ... import cells
from ...activations import sigmoid
from . import interact, slider


def pulse_traces(forget_bias=2.0, input_bias=0.0, output_bias=0.0, length=40, pulse_at=5,
                 pulse=1.0, w_candidate=2.0, show_at=None, w_show=12.0):
    """Run one LSTM unit over `length` steps with input x_t = pulse at step `pulse_at`, else 0.

    Gate pre-activations: i = sigmoid(input_bias), f = sigmoid(forget_bias),
    o = sigmoid(output_bias + w_show * [t >= show_at]), candidate g = tanh(w_candidate * x_t).
    Returns a dict of arrays of length `length`: x, c, h, i, f, g, o (c_0 = h_0 = 0).
    """
    W_x = np.zeros((2, 4))
    W_x[0, 2] = w_candidate  # pulse -> candidate
    W_x[1, 3] = w_show  # "show" signal -> output gate
    W_h = np.zeros((1, 4))
    b = np.array([input_bias, forget_bias, 0.0, output_bias], dtype=float)
    x = np.zeros(length)
    x[pulse_at] = pulse
    show = np.zeros(length) if show_at is None else (np.arange(length) >= show_at).astype(float)
    h, c = np.zeros((1, 1)), np.zeros((1, 1))
    out = {k: np.empty(length) for k in ("c", "h", "i", "f", "g", "o")}
    for t in range(length):
        xt = np.array([[x[t], show[t]]])
        h, c, cache = cells.lstm_step(xt, h, c, W_x, W_h, b)
        i, f, g, o = cache.i, cache.f, cache.g, cache.o
        for key, value in (("c", c), ("h", h), ("i", i), ("f", f), ("g", g), ("o", o)):
            out[key][t] = value[0, 0]
    out["x"] = x
    return out


def half_life(f):
    """Steps until a forget gate f keeps half of the cell: log(0.5) / log(f)."""
    f = float(f)
    if f >= 1.0:
        return float("inf")
    if f <= 0.0:
        return 0.0
    return float(np.log(0.5) / np.log(f))


def plot_sigmoid_switch(biases=(-4.0, 0.0, 4.0)):
    """The sigmoid and where a few biases put a gate."""
    import matplotlib.pyplot as plt

    z = np.linspace(-8, 8, 321)
    fig, ax = plt.subplots(figsize=(6, 2.8), dpi=80)
    ax.plot(z, sigmoid(z), label=r"$\sigma(z) = 1/(1+e^{-z})$")
    for bz in biases:
        ax.plot([bz], [sigmoid(bz)], "o")
        ax.annotate(f"z = {bz:g}: {float(sigmoid(bz)):.3f}", (bz, float(sigmoid(bz))),
                    textcoords="offset points", xytext=(6, -12 if bz > 0 else 6), fontsize=8)
    ax.axhline(0, color="k", lw=0.5)
    ax.axhline(1, color="k", lw=0.5)
    ax.set_xlabel("pre-activation z")
    ax.set_ylabel("gate value")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


PULSE_BAND = {"color": "#d9d9d9", "zorder": 0}  # the input pulse: a grey band, never a line style


def _mark_pulse(ax, pulse_at, label=None):
    ax.axvspan(pulse_at - 0.5, pulse_at + 0.5, label=label, **PULSE_BAND)


def plot_traces(runs, keys=("c", "h"), title=None):
    """Traces of c_t and/or h_t for several runs: `runs` is a list of (label, traces).

    The runs differ in line style (solid, dashed, dotted), so equal traces both show; the input
    pulse is a grey band behind them, named in the legend."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys) + 2.6, 2.8), dpi=80, squeeze=False)
    for ax, key in zip(axes[0], keys):
        for k, (label, tr) in enumerate(runs):
            ax.plot(tr[key], marker=".", ms=3, ls=("-", "--", ":")[k % 3], label=label)
        pulse_at = int(np.argmax(runs[0][1]["x"]))
        _mark_pulse(ax, pulse_at, label=f"grey band: the input pulse (step {pulse_at})")
        ax.set_xlabel("step t")
        ax.set_ylabel(f"${key}_t$")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))  # outside: no trace hidden
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


GATE_COLORS = {"i": "#2ca02c", "f": "#1f77b4", "o": "#c8378f"}  # diagram.COLORS: input, forget, output


def plot_pulse(forget_bias=2.0, input_bias=0.0, output_bias=0.0, length=40):
    """The widget's figure: c_t and h_t over time (top), the input pulse as a grey band, and the
    three gate values (bottom). With W_h = 0 each gate is the same at every step, so the gates
    are drawn as one bar each, side by side: equal values (i = o) still show as two bars."""
    import matplotlib.pyplot as plt

    tr = pulse_traces(forget_bias, input_bias, output_bias, length)
    t = np.arange(length)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.6), dpi=80, height_ratios=[3, 1.25])
    _mark_pulse(top, int(np.argmax(tr["x"])), label="input pulse $x_t$")
    top.plot(t, tr["c"], marker=".", color="#e08a00", label="cell $c_t$")
    top.plot(t, tr["h"], marker=".", color="#333333", label="output $h_t = o_t \\tanh(c_t)$")
    top.set_ylim(-0.05, 1.05)
    top.set_xlabel("step t")
    top.set_ylabel("value")
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    names = {"i": "input gate i", "f": "forget gate f", "o": "output gate o"}
    values = [float(tr[k][0]) for k in names]
    rows = np.arange(len(names))[::-1]
    bottom.barh(rows, values, color=[GATE_COLORS[k] for k in names], height=0.6)
    for row, value in zip(rows, values):
        inside = value > 0.86  # near 1 the number goes inside the bar, in white
        bottom.text(value + (-0.015 if inside else 0.015), row, f"{value:.3f}", va="center", fontsize=9,
                    ha="right" if inside else "left", color="white" if inside else "#222222")
    bottom.set_yticks(rows, list(names.values()), fontsize=9)
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("gate value, the same at every step (no recurrent weights)")
    bottom.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def summary_pulse(forget_bias=2.0, input_bias=0.0, output_bias=0.0, length=40):
    """The widget's readout: what is written, how much is left 20 steps later, what h shows."""
    tr = pulse_traces(forget_bias, input_bias, output_bias, length)
    p = int(np.argmax(tr["x"]))
    later = min(p + 20, length - 1)
    f = tr["f"][0]
    return (f"i = {tr['i'][0]:.3f} writes <b>{tr['c'][p]:.3f}</b> into the cell at step {p}; "
            f"with f = {f:.3f} (half-life {half_life(f):.1f} steps) <b>{tr['c'][later]:.3f}</b> "
            f"is left at step {later}; o = {tr['o'][0]:.3f} shows h = {tr['h'][p]:.3f} at the pulse")


def gate_widget(forget_bias=2.0, input_bias=0.0, output_bias=0.0):
    """Sliders: the three gate biases -> traces of c_t and h_t for an input pulse."""
    return interact(plot_pulse, summary_pulse,
                    forget_bias=slider("forget-gate bias", -4.0, 8.0, 0.5, forget_bias),
                    input_bias=slider("input-gate bias", -6.0, 6.0, 0.5, input_bias),
                    output_bias=slider("output-gate bias", -6.0, 6.0, 0.5, output_bias))


def plot_learned_gates(x, gates, unit, pred, target):
    """One sequence of the remember-until-cue task and what a trained LSTM does with it.

    x (T, 3): value, store flag, cue flag; gates: dict of (T, H) arrays i, f, g, o, c;
    unit: the hidden unit to show; pred, target: (T,) the network's output and the answer.
    """
    import matplotlib.pyplot as plt

    from ..diagram import COLORS

    t = np.arange(len(x))
    stores, cue = np.flatnonzero(x[:, 1]), int(np.flatnonzero(x[:, 2])[0])
    fig, (top, mid, low) = plt.subplots(3, 1, figsize=(7.2, 5.4), dpi=80, sharex=True,
                                        gridspec_kw={"height_ratios": [1, 1.3, 1.1]})
    top.bar(t, x[:, 0], color="lightgray", label="value shown at each step")
    top.bar(stores, x[stores, 0], color="tab:olive", label="value at a store step")
    top.set_ylabel("input")
    top.set_ylim(-1.15, 1.15)
    top.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    mid.plot(t, gates["i"][:, unit], marker=".", color=COLORS["input"], label="input gate $i$")
    mid.plot(t, gates["f"][:, unit], marker=".", color=COLORS["forget"], label="forget gate $f$")
    mid.plot(t, gates["o"][:, unit], marker=".", color=COLORS["output"], label="output gate $o$")
    mid.set_ylim(-0.05, 1.05)
    mid.set_ylabel(f"gates of unit {unit}")
    mid.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    low.plot(t, gates["c"][:, unit], marker=".", color=COLORS["highway"], label=f"cell $c_t$ of unit {unit}")
    low.plot(t, pred, marker=".", color="k", label=r"network output $\hat y_t$")
    low.plot([cue], [target[cue]], "*", ms=12, color="tab:red", label="the answer at the cue")
    low.set_ylabel("value")
    low.set_xlabel("step t")
    low.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    for ax in (top, mid, low):
        for s in stores:
            ax.axvline(s, color="tab:olive", ls=":", lw=1)
        ax.axvline(cue, color="tab:red", ls=":", lw=1)
        ax.grid(alpha=0.3)
    low.set_xticks(t[::2])
    top.set_title("dotted: the two store steps (olive) and the cue (red)", fontsize=9)
    fig.tight_layout()
    return fig
