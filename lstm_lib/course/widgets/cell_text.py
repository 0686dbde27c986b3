"""Chapter 11 widget: the text coloured by one LSTM cell, and the figures of the cell search.

The plain functions take recorded states (lstm_lib.course.cell_watch.record) and text, so
they are tested without a model or a browser.
"""
import html

import numpy as np

from ..cell_watch import GATES, correlations

GATE_COLORS = {"i": "tab:green", "f": "tab:blue", "o": "tab:orange"}
GATE_NAMES = {"i": "input", "f": "forget", "o": "output"}


def text_grid(text, width):
    """Lay `text` out as lines of at most `width` characters (newlines start a new line and
    are shown as '↵'): (rows, positions) where positions[r] lists (column, index in text)."""
    rows, row = [], []
    for k, ch in enumerate(text):
        if len(row) == width:
            rows.append(row)
            row = []
        row.append((len(row), k))
        if ch == "\n":
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return rows


def plot_cell_text(text, values, title="", width=72, vmax=1.0):
    """Each character of `text` on a background coloured by its value in `values` (same
    length): red positive, blue negative, white 0, saturated at +-vmax."""
    import matplotlib.pyplot as plt

    rows = text_grid(text, width)
    grid = np.full((len(rows), width), np.nan)
    for r, row in enumerate(rows):
        for col, k in row:
            grid[r, col] = values[k]
    fig, ax = plt.subplots(figsize=(0.105 * width + 0.6, 0.2 * len(rows) + 0.6), dpi=80)
    ax.imshow(grid, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto", interpolation="nearest")
    for r, row in enumerate(rows):
        for col, k in row:
            ch = "↵" if text[k] == "\n" else text[k]
            if ch != " ":
                ax.text(col, r, ch, ha="center", va="center", fontsize=8, family="monospace",
                        color="0.5" if ch == "↵" else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def cell_summary(layers, features, layer, unit, key="c"):
    """HTML: the correlation of one unit with each property of the text."""
    values = layers[layer - 1][key][:, unit]
    rs = ", ".join(f"{html.escape(name)} <b>{correlations(values[:, None], f)[0]:+.2f}</b>"
                   for name, f in features.items())
    return f"layer {layer}, cell {unit}: correlation with {rs}"


def cell_text_widget(text, layers, features, layer=1, unit=0, start=0, span=500, key="c"):
    """Sliders for the layer, the cell and where the stretch of `span` characters starts;
    the text coloured by tanh of that cell's state."""
    from . import interact, slider

    n_layers, hidden = len(layers), layers[0][key].shape[1]
    last = max(len(text) - span, 0)

    def plot(layer, unit, start):
        stretch = slice(start, start + span)
        values = np.tanh(layers[layer - 1][key][stretch, unit])
        return plot_cell_text(text[stretch], values, f"layer {layer}, cell {unit}: tanh(c), "
                              f"characters {start}-{start + len(values)}")

    return interact(plot, lambda layer, unit, start: cell_summary(layers, features, layer, unit, key),
                    layer=slider("layer", 1, n_layers, 1, layer, integer=True),
                    unit=slider("cell", 0, hidden - 1, 1, unit, integer=True),
                    start=slider("start", 0, last, 100, min(start, last), integer=True))


def plot_saturation(sat):
    """Karpathy et al.'s picture: one panel per layer, one dot per unit and gate, at (fraction
    of time below 0.1, fraction of time above 0.9). Dots near the right end of the x axis are
    gates almost always shut; near the top, almost always open."""
    import matplotlib.pyplot as plt

    n_layers = max(k for k, _ in sat)
    fig, axes = plt.subplots(1, n_layers, figsize=(3.6 * n_layers, 3.3), dpi=80, squeeze=False)
    for k, ax in enumerate(axes[0], 1):
        for g in GATES:
            shut, open_ = sat[(k, g)]
            ax.scatter(shut, open_, s=7, alpha=0.6, color=GATE_COLORS[g], label=f"{GATE_NAMES[g]} gate")
        ax.plot([0, 1], [1, 0], color="0.7", lw=0.8)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("fraction of time < 0.1 (shut)")
        ax.set_title(f"layer {k}", fontsize=10)
    axes[0][0].set_ylabel("fraction of time > 0.9 (open)")
    axes[0][0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def plot_cell_vs_feature(layers, features, best, key="c", max_bins=12):
    """One panel per property: the best unit's mean value (± one standard deviation, shaded)
    at each value of the property, over the whole recorded text. A cell that tracks the
    property gives a steady staircase; one that does not, a flat or noisy line."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(best), figsize=(2.3 * len(best), 2.6), dpi=80, squeeze=False)
    for ax, (name, (layer, unit, r)) in zip(axes[0], best.items()):
        f, v = features[name], layers[layer - 1][key][:, unit]
        levels = np.unique(f)
        if len(levels) > max_bins:  # bin by quantiles for many-valued properties
            edges = np.unique(np.quantile(f, np.linspace(0, 1, max_bins + 1)))
            f = edges[np.clip(np.searchsorted(edges, f, side="right") - 1, 0, len(edges) - 2)]
            levels = np.unique(f)
        mean = np.array([v[f == x].mean() for x in levels])
        std = np.array([v[f == x].std() for x in levels])
        ax.plot(levels, mean, "o-", ms=3, color="tab:purple")
        ax.fill_between(levels, mean - std, mean + std, color="tab:purple", alpha=0.2)
        ax.set_xlabel(name, fontsize=8)
        ax.set_title(f"layer {layer} cell {unit}\nr = {r:+.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("cell state c", fontsize=8)
    fig.tight_layout()
    return fig
