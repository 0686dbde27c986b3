"""The LSTM cell drawn: one step of `lstm_lib.cells.lstm_step`, labelled with the code's names.

API (matplotlib only, so it renders offline and in Colab; every call returns the Figure):

    from lstm_lib.course.diagram import draw_cell, PATHS
    draw_cell()                                    # the whole step, forward, left to right
    draw_cell(highlight="forget")                  # one part in its colour, the rest grey
    draw_cell(highlight=["input", "candidate"])    # several parts
    draw_cell(backward=True)                       # the gradients (red, right to left)
    draw_cell(highlight="highway", backward=True)  # only that part's gradients
    draw_cell(chapters=True)                       # course map: badges 01-05 and a legend
    draw_cell(ax=my_ax, title="...")               # into an existing axes
    draw_unrolled()                                # three steps, h and c handed from step to step
    draw_unrolled(highlight="highway", backward=True)  # the gradients over time (chapter 04's routes)

`PATHS` (name -> what it is): "inputs" (x_t and h_{t-1} into z = x_t W_x + h_{t-1} W_h + b),
"forget", "input", "candidate", "output", "highway" (c_{t-1} -> ⊙f -> + -> c_t). An unknown
name raises ValueError listing the valid ones. `COLORS[path]` is each part's colour (use it
to colour a chapter's own plots to match), `LABELS` the forward labels keyed by the code's
names (x, h_prev, c_prev, h, c, i, f, g, o, tanh_c), `GRAD_LABELS` the backward ones (dc, dh,
dz, dc_prev, dh_prev, dx, as in `cells.lstm_gates_backward`). With backward=True, numbered
markers show where gradients add at a copy (1: c_t, 4: h_{t-1} and x_t into four gates), pass
unchanged through the sum (2), and are only multiplied by f along the highway (3), each rule
written out below the cell. Every drawn element has a gid "kind:name" ("box:f", "node:mul_f",
"edge:grad:dc", "label:c_prev", "marker:3"), which the tests use.

The gate boxes stand left to right in the order of the code's column blocks, i, f, g, o
(`GATE_ORDER`), so a learner who copies the drawing copies PyTorch's order. `draw_unrolled`
draws the same step over time; its paths are `UNROLLED_PATHS` ("highway", "hidden", "inputs").
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from . import CHAPTERS

PATHS = {
    "inputs": "x_t and h_{t-1} into the pre-activations z = x_t W_x + h_{t-1} W_h + b",
    "forget": "the forget gate f = sigmoid(z_f), multiplying the old cell",
    "input": "the input gate i = sigmoid(z_i), how much of the candidate is written",
    "candidate": "the candidate g = c~ = tanh(z_g), what is written",
    "output": "the output gate o = sigmoid(z_o) and h_t = o * tanh(c_t)",
    "highway": "the cell state c_{t-1} -> (* f) -> (+ i * g) -> c_t",
}

# the code's names (fields of cells.LSTMStepCache, and lstm_step's outputs h, c) -> label
LABELS = {"x": "$x_t$", "h_prev": "$h_{t-1}$", "c_prev": "$c_{t-1}$", "h": "$h_t$", "c": "$c_t$",
          "i": "$i$", "f": "$f$", "g": r"$g = \tilde{c}$", "o": "$o$", "tanh_c": r"$\tanh(c_t)$"}
GRAD_LABELS = {"dc": "dc", "dh": "dh", "dc_prev": "dc_prev", "dh_prev": "dh_prev", "dx": "dx",
               "dz": "dz"}
COLORS = {"inputs": "#555555", "forget": "#1f77b4", "input": "#2ca02c", "candidate": "#9467bd",
          "output": "#c8378f", "highway": "#e08a00"}
GRAD, FADED, INK, GREY = "#d62728", "#c8c8c8", "#333333", "#9a9a9a"
CHAPTER_LEGEND = (
    r"01  a plain RNN: $h_{t-1}$ through $W_h$ and tanh, and why its gradients vanish",
    r"02  the gates $f, i, o$: sigmoid switches      03  the candidate $g = \tilde{c}$: what to write",
    (r"04  the highway $c_{t-1} \to c_t$: gradients that survive      "
     r"05  the whole step, a layer over time"),
    (r"06  backward through time      "
     f"07-{CHAPTERS[-1][0][:2]}  train it, debug it, put it to work, and beyond"))
RULES = (
    (r"1  $c_t$ is copied (out, and into tanh): their gradients add, "
     r"dc $\leftarrow$ dc + dh $\odot\, o \odot (1 - \tanh^2 c_t)$"),
    r"2  at the sum $+$ the gradient passes to both terms unchanged",
    r"3  along the highway only a multiply by $f$: dc_prev = dc $\odot\, f$ (no weight matrix, no tanh$'$)",
    (r"4  $h_{t-1}$ and $x_t$ feed all four gates: dh_prev = dz $W_h^\top$ and dx = dz $W_x^\top$ "
     r"add their four parts"))

# geometry (data units): the highway on top, the inputs' bus at the bottom, gates between
HWY, BUS, GATE, MIX = 5.2, 1.0, 2.5, 3.9
GX = {"i": 3.0, "f": 4.5, "g": 6.0, "o": 7.5}  # the order of the code's blocks: i, f, g, o
GATE_ORDER = tuple(GX)  # ("i", "f", "g", "o"), the column blocks of W_x, W_h and b
GATE_PATH = {"f": "forget", "i": "input", "g": "candidate", "o": "output"}
COPY_X, OUT_X, R = 8.9, 8.9, 0.24


def _as_set(highlight):
    if highlight is None:
        return set()
    names = [highlight] if isinstance(highlight, str) else list(highlight)
    unknown = [n for n in names if n not in PATHS]
    if unknown:
        raise ValueError(f"unknown path {unknown[0]!r}: choose from {', '.join(PATHS)} "
                         f"(or a list of them)")
    return set(names)


class _Painter:
    """Draws the elements of the cell, each in its path's colour, highlighted or faded."""

    def __init__(self, ax, highlight, backward):
        self.ax, self.on, self.backward = ax, highlight, backward

    def color(self, paths, default=INK):
        if self.backward:
            return FADED if self.on else GREY
        if not self.on:
            return default
        hit = [p for p in paths if p in self.on]
        return COLORS[hit[0]] if hit else FADED

    def strong(self, paths):
        return bool(self.on) and not self.backward and any(p in self.on for p in paths)

    def edge(self, points, paths, name, arrow=True, lw=1.6, color=None, z=2):
        col = color or self.color(paths)
        lw = lw * (1.8 if self.strong(paths) else 1.0)
        patch = FancyArrowPatch(path=Path(np.asarray(points, float)), arrowstyle="-|>" if arrow else "-",
                                mutation_scale=12, color=col, lw=lw, zorder=z,
                                shrinkA=0, shrinkB=0, joinstyle="miter", capstyle="butt")
        patch.set_gid(f"edge:{name}")
        self.ax.add_patch(patch)
        return patch

    def node(self, xy, kind, paths, name):
        col = self.color(paths)
        lw = 2.2 if self.strong(paths) else 1.4
        circle = Circle(xy, R, facecolor="white", edgecolor=col, lw=lw, zorder=4, gid=f"node:{name}")
        self.ax.add_patch(circle)
        x, y = xy
        if kind == "mul":  # ⊙: a dot in the circle
            self.ax.add_patch(Circle(xy, 0.045, color=col, zorder=5))
        else:  # +: a cross in the circle
            self.ax.plot([x - R, x + R], [y, y], color=col, lw=lw, zorder=5)
            self.ax.plot([x, x], [y - R, y + R], color=col, lw=lw, zorder=5)

    def box(self, xy, text, paths, name, width=0.8, fill=None):
        col = self.color(paths)
        face = "white" if (self.backward or (self.on and col == FADED)) else (fill or "white")
        x, y = xy
        patch = FancyBboxPatch((x - width / 2, y - 0.3), width, 0.6, boxstyle="round,pad=0.04",
                               facecolor=face, edgecolor=col, lw=2.2 if self.strong(paths) else 1.3,
                               zorder=4, gid=f"box:{name}")
        self.ax.add_patch(patch)
        self.ax.text(x, y, text, ha="center", va="center", fontsize=11, color=col, zorder=5)

    def label(self, xy, name, paths, ha="center", va="center", size=11, text=None):
        col = self.color(paths)
        if col == GREY:  # labels a little darker than the greyed lines, to stay readable
            col = "#666666"
        return self.ax.text(*xy, text or LABELS[name], ha=ha, va=va, fontsize=size, color=col,
                            zorder=6, gid=f"label:{name}")


def _forward(p):
    """The forward step, left to right: inputs at the bottom, gates, the highway on top."""
    hw = ("highway",)
    # the highway: c_{t-1} -> ⊙f -> + -> copy -> c_t, thick, drawn above everything it crosses
    p.edge([(0.5, HWY), (GX["f"] - R, HWY)], hw, "c_prev", lw=3.2, color=p.color(hw, COLORS["highway"]))
    p.edge([(GX["f"] + R, HWY), (GX["g"] - R, HWY)], hw, "c_kept", lw=3.2,
           color=p.color(hw, COLORS["highway"]))
    p.edge([(GX["g"] + R, HWY), (11.0, HWY)], hw, "c", lw=3.2, color=p.color(hw, COLORS["highway"]))
    p.node((GX["f"], HWY), "mul", ("highway", "forget"), "mul_f")
    p.node((GX["g"], HWY), "add", ("highway", "input", "candidate"), "add")
    side = -0.34 if p.backward else 0.32  # the gradient labels take the place above
    p.label((0.45, HWY + side), "c_prev", hw, ha="left")
    p.label((11.0, HWY + side), "c", hw, ha="right")
    # the inputs: h_{t-1} from the left, x_t from below, one bus to the four gates
    ins = ("inputs",)
    p.edge([(0.5, BUS), (1.3, BUS)], ins, "h_prev")
    p.edge([(1.3, BUS), (GX["o"], BUS)], ins, "bus", arrow=False)
    p.edge([(1.9, 0.0), (1.9, BUS)], ins, "x")
    p.label((0.45, BUS + 0.3), "h_prev", ins, ha="left")
    p.label((1.75, 0.2), "x", ins, ha="right")
    if not p.backward:  # (backward: the gradient dh_prev runs there)
        p.label((5.0, 0.74), "z", ins, size=9,
                text=r"$z = x_t W_x + h_{t-1} W_h + b$, four blocks $i, f, g, o$")
    for gate, x in GX.items():
        path = (GATE_PATH[gate], "inputs")
        p.edge([(x, BUS), (x, GATE - 0.34)], path, f"z_{gate}")
        p.box((x, GATE), r"$\tanh$" if gate == "g" else r"$\sigma$", (GATE_PATH[gate],), gate,
              fill=COLORS[GATE_PATH[gate]] + "22")
    # gate outputs: f up to the highway; i and g meet at ⊙ and go up to +; o to the output ⊙
    # (i runs to the right under f's line: f passes over it, a white gap marks the crossing)
    p.edge([(GX["i"], GATE + 0.34), (GX["i"], MIX), (GX["g"] - R, MIX)], ("input",), "i")
    p.label((GX["i"] - 0.12, 3.3), "i", ("input",), ha="right")
    f_line = p.edge([(GX["f"], GATE + 0.34), (GX["f"], HWY - R)], ("forget",), "f", z=3)
    f_line.set_path_effects([patheffects.Stroke(linewidth=f_line.get_linewidth() + 5, foreground="#f7f7f4"),
                             patheffects.Normal()])
    p.label((GX["f"] - 0.12, 4.4), "f", ("forget",), ha="right")
    p.edge([(GX["g"], GATE + 0.34), (GX["g"], MIX - R)], ("candidate",), "g")
    p.label((GX["g"] - 0.12, 3.25), "g", ("candidate",), ha="right")
    p.node((GX["g"], MIX), "mul", ("input", "candidate"), "mul_ig")
    p.edge([(GX["g"], MIX + R), (GX["g"], HWY - R)], ("input", "candidate"), "ig")
    # output: a copy of c_t through tanh, times o, is h_t (out to the right, at the bottom)
    out = ("output",)
    p.edge([(COPY_X, HWY), (COPY_X, MIX + 0.34)], out, "c_copy")
    p.ax.add_patch(Circle((COPY_X, HWY), 0.11, color=p.color(hw, COLORS["highway"]), zorder=5,
                          gid="node:copy_c"))  # the copy: c_t goes on, and into tanh
    p.box((COPY_X, MIX), r"$\tanh$", out, "tanh_c", width=0.8, fill=COLORS["output"] + "22")
    p.label((COPY_X - 0.5, MIX), "tanh_c", out, ha="right", size=10)
    p.edge([(COPY_X, MIX - 0.34), (COPY_X, GATE + R)], out, "tanh_c")
    p.edge([(GX["o"] + 0.44, GATE), (OUT_X - R, GATE)], out, "o")
    p.label(((GX["o"] + OUT_X) / 2 + 0.05, GATE + 0.2), "o", out)
    p.node((OUT_X, GATE), "mul", out, "mul_o")
    p.edge([(OUT_X + R, GATE), (11.0, GATE)], out, "h")
    p.label((11.0, GATE + 0.3), "h", out, ha="right")


def _backward(p, on):
    """The gradients, right to left, over the greyed forward drawing."""
    ax = p.ax

    def show(*paths):
        return not on or any(q in on for q in paths)

    def grad(points, paths, name, lw=1.6):
        if show(*paths):
            p.edge(points, paths, f"grad:{name}", lw=lw * (1.4 if on else 1.0), color=GRAD, z=7)

    def text(xy, name, paths, ha="left", va="bottom"):
        if show(*paths):
            ax.text(*xy, GRAD_LABELS[name], color=GRAD, fontsize=10, ha=ha, va=va, zorder=8,
                    gid=f"label:{name}")

    d = 0.22  # a gradient runs just beside the forward line it follows
    grad([(11.0, HWY + d), (0.5, HWY + d)], ("highway", "forget", "input", "candidate"), "dc", lw=2.4)
    text((10.95, HWY + d + 0.08), "dc", ("highway", "forget", "input", "candidate"), ha="right")
    text((0.5, HWY + d + 0.08), "dc_prev", ("highway",))
    grad([(11.0, GATE - 0.3), (GX["o"] + 0.46, GATE - 0.3)], ("output",), "dh", lw=2.0)
    text((10.95, GATE - 0.38), "dh", ("output",), ha="right", va="top")
    grad([(COPY_X + 0.6, GATE - 0.3), (COPY_X + 0.6, HWY - 0.05)], ("output",), "dh_to_c")
    grad([(GX["g"] + d, HWY - R - 0.03), (GX["g"] + d, MIX + R + 0.03)],
         ("input", "candidate"), "dc_to_ig")
    grad([(GX["f"] + d, HWY - R - 0.03), (GX["f"] + d, GATE + 0.36)], ("forget",), "df")
    grad([(GX["g"] - R - 0.03, MIX - 0.2), (GX["i"] + d, MIX - 0.2), (GX["i"] + d, GATE + 0.36)],
         ("input",), "di")
    grad([(GX["g"] + d, MIX - R - 0.03), (GX["g"] + d, GATE + 0.36)], ("candidate",), "dg")
    for gate, x in GX.items():
        grad([(x + d, GATE - 0.36), (x + d, BUS + 0.04)], (GATE_PATH[gate], "inputs"), f"dz_{gate}")
    text((GX["o"] + d + 0.08, 1.5), "dz", ("inputs",))
    grad([(GX["o"] + d, BUS - d), (0.5, BUS - d)], ("inputs",), "dh_prev", lw=2.0)
    grad([(1.9 + d, BUS - d), (1.9 + d, 0.0)], ("inputs",), "dx")
    text((0.5, BUS - d - 0.08), "dh_prev", ("inputs",), va="top")
    text((1.9 + d + 0.1, 0.05), "dx", ("inputs",))
    markers = {1: ((COPY_X + 0.3, HWY - 0.4), ("output",)),
               2: ((GX["g"] + 0.55, HWY - 0.42), ("input", "candidate", "highway")),
               3: ((GX["f"] - 0.45, HWY - 0.42), ("highway", "forget")),
               4: ((2.45, BUS + 0.42), ("inputs",))}
    shown = [k for k, (_, paths) in markers.items() if show(*paths)]
    for row, k in enumerate(shown):
        ax.text(*markers[k][0], str(k), ha="center", va="center", fontsize=9, color="white",
                zorder=9, fontweight="bold", gid=f"marker:{k}",
                bbox={"boxstyle": "circle,pad=0.2", "facecolor": GRAD, "edgecolor": GRAD})
        ax.text(0.45, -0.55 - 0.36 * row, RULES[k - 1], fontsize=8.5, ha="left", va="center",
                color="#333333", gid=f"rule:{k}")


def _chapter_tags(ax):
    """Course map: a numbered badge on each part, at the chapter that builds it, and a legend."""
    badges = {"01": [(0.95, BUS - 0.3)], "02": [(GX["f"] - 0.5, GATE + 0.45), (GX["i"] - 0.5, GATE + 0.45),
                                                (GX["o"] - 0.5, GATE + 0.45)],
              "03": [(GX["g"] + 0.5, GATE + 0.45)], "04": [(4.5, HWY + 0.36)],
              "05": [(9.25, 0.8)]}  # 06 builds no part of the forward step (it runs it backward)
    for chap, spots in badges.items():
        for xy in spots:
            ax.text(*xy, chap, fontsize=7.5, ha="center", va="center", zorder=9, color="#222222",
                    gid=f"chapter:{chap}", bbox={"boxstyle": "round,pad=0.25",
                                                "facecolor": "#fff1a8", "edgecolor": "#b8a040"})
    for row, line in enumerate(CHAPTER_LEGEND):
        ax.text(0.45, -0.55 - 0.36 * row, line, fontsize=8.5, ha="left", va="center",
                color="#333333", gid=f"legend:{row}")


def draw_cell(highlight=None, backward=False, chapters=False, ax=None, title=None):
    """Draw one LSTM step; see the module docstring. Returns the matplotlib Figure."""
    on = _as_set(highlight)
    if ax is None:
        rows = 1.0 if backward or chapters else 0.0
        fig, ax = plt.subplots(figsize=(7.6, 4.0 + rows * 0.9), dpi=90)
    fig = ax.figure
    ax.set_xlim(0.2, 11.3)
    ax.set_ylim(-0.25 - (1.45 if backward or chapters else 0.0), HWY + 0.95)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((1.35, 0.55), 8.2, 5.1, boxstyle="round,pad=0.1", facecolor="#f7f7f4",
                                edgecolor="#bbbbbb", lw=1.0, zorder=0, gid="cell"))
    painter = _Painter(ax, on, backward)
    _forward(painter)
    if backward:
        _backward(painter, on)
    if chapters:
        _chapter_tags(ax)
    if title is None:
        what = " + ".join(sorted(on, key=list(PATHS).index)) if on else ""
        title = ("one LSTM step, backward" if backward else "one LSTM step") + (f": {what}" if what else "")
        if chapters:
            title = "one LSTM step, and the chapters that build it"
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


# the unrolled view: the same step drawn `steps` times, (h, c) handed from each step to the next
UNROLLED_PATHS = {
    "highway": "the cell state c, handed on along the top: c_t = f_t * c_{t-1} + i_t * g_t",
    "hidden": "the hidden state h, handed on along the bottom and put out at every step",
    "inputs": "the inputs x_t, one per step, into the same weights W_x, W_h, b",
}
U_C, U_H, U_W, U_GAP = 3.1, 1.3, 3.0, 1.05  # c line, h line, step width, gap between steps


def _unrolled_set(highlight):
    if highlight is None:
        return set()
    names = [highlight] if isinstance(highlight, str) else list(highlight)
    unknown = [n for n in names if n not in UNROLLED_PATHS]
    if unknown:
        raise ValueError(f"unknown path {unknown[0]!r}: choose from {', '.join(UNROLLED_PATHS)} "
                         f"(or a list of them)")
    return set(names)


def draw_unrolled(steps=3, highlight=None, backward=False, ax=None, title=None):
    """The LSTM over time: `steps` copies of one step, h and c handed from each to the next.

    Each step box holds the four gates in the code's order i, f, g, o and the highway's two
    operators (times f_t, plus i_t g_t). highlight: "highway", "hidden", "inputs" or a list of
    them (the rest greyed). backward=True adds the gradients, right to left: dc along the
    highway (times f_t at each step), dh along h, and in every step the switch between the
    two (the mixed routes of chapter 04). gids: "step:t", "edge:c_t", "edge:h_t", "label:x_t",
    "box:t:i" ... Returns the Figure.
    """
    if not isinstance(steps, int) or not 1 <= steps <= 6:
        raise ValueError(f"steps must be a whole number from 1 to 6, got {steps!r}")
    on = _unrolled_set(highlight)

    def col(path, default):
        if backward:
            return FADED if on else GREY
        return default if not on or path in on else FADED

    if ax is None:
        fig, ax = plt.subplots(figsize=(1.6 + 2.25 * steps, 3.6 + (0.5 if backward else 0.0)), dpi=90)
    fig = ax.figure
    left, right = 0.2, 1.3 + steps * (U_W + U_GAP)
    ax.set_xlim(left, right + 0.2)
    ax.set_ylim(-0.75 - (0.8 if backward else 0.0), 4.65)
    ax.set_aspect("equal")
    ax.axis("off")
    c_col, h_col, x_col = (col("highway", COLORS["highway"]), col("hidden", INK), col("inputs", INK))

    def arrow(points, color, name, lw=1.6, z=2, arrowhead=True):
        patch = FancyArrowPatch(path=Path(np.asarray(points, float)), arrowstyle="-|>" if arrowhead else "-",
                                mutation_scale=12, color=color, lw=lw, zorder=z, shrinkA=0, shrinkB=0,
                                joinstyle="miter", capstyle="butt", gid=f"edge:{name}")
        ax.add_patch(patch)
        return patch

    def text(xy, s, gid, color=INK, size=10, **kw):
        kw = {"ha": "center", "va": "center", **kw}
        return ax.text(*xy, s, fontsize=size, color=color, zorder=8, gid=gid, **kw)

    def mark(xy, kind, color, name):
        ax.add_patch(Circle(xy, 0.2, facecolor="white", edgecolor=color, lw=1.3, zorder=5, gid=f"node:{name}"))
        if kind == "mul":
            ax.add_patch(Circle(xy, 0.04, color=color, zorder=6))
        else:
            ax.plot([xy[0] - 0.2, xy[0] + 0.2], [xy[1]] * 2, color=color, lw=1.3, zorder=6)
            ax.plot([xy[0]] * 2, [xy[1] - 0.2, xy[1] + 0.2], color=color, lw=1.3, zorder=6)

    x_in = 1.3  # where the first step begins
    text((left + 0.05, U_C + 0.3), "$c_0$", "label:c_0", c_col, ha="left")
    text((left + 0.05, U_H + 0.3), "$h_0$", "label:h_0", h_col, ha="left")
    for t in range(1, steps + 1):
        x0 = x_in + (t - 1) * (U_W + U_GAP)
        ax.add_patch(FancyBboxPatch((x0, 0.55), U_W, 3.0, boxstyle="round,pad=0.06", facecolor="#f7f7f4",
                                    edgecolor="#bbbbbb", lw=1.0, zorder=0, gid=f"step:{t}"))
        text((x0 + 0.12, 0.78), f"step {t}", f"title:{t}", "#777777", size=8, ha="left")
        start = left + 0.1 if t == 1 else x0 - U_GAP
        c_start = left + 0.1 if t == 1 else x0 - U_GAP - U_W + 1.8  # from the previous step's +
        mul, add = (x0 + 0.75, U_C), (x0 + 1.6, U_C)
        arrow([(c_start, U_C), (mul[0] - 0.2, U_C)], c_col, f"c_{t - 1}", lw=3.0)
        arrow([(mul[0] + 0.2, U_C), (add[0] - 0.2, U_C)], c_col, f"c_kept_{t}", lw=3.0)
        mark(mul, "mul", c_col, f"mul_f_{t}")
        mark(add, "add", c_col, f"add_{t}")
        text((mul[0], U_C + 0.42), f"$f_{t}$", f"label:f_{t}", c_col, size=9)
        text((add[0], U_C + 0.42), f"$i_{t} g_{t}$", f"label:ig_{t}", c_col, size=9)
        # the four gates, in the code's order, read x_t and h_{t-1}
        for k, gate in enumerate("ifgo"):
            gx = x0 + 0.45 + k * 0.6
            box = FancyBboxPatch((gx - 0.22, 2.0), 0.44, 0.42, boxstyle="round,pad=0.03",
                                 facecolor=(COLORS[GATE_PATH[gate]] + "22") if not (backward or on) else "white",
                                 edgecolor=GREY if (backward or on) else COLORS[GATE_PATH[gate]], lw=1.1,
                                 zorder=4, gid=f"box:{t}:{gate}")
            ax.add_patch(box)
            text((gx, 2.21), gate, f"gate:{t}:{gate}", GREY if (backward or on) else INK, size=9)
        # h: into the step from the left, out to the right (and up, as this step's output)
        arrow([(start, U_H), (x0 + 0.05, U_H)], h_col, f"h_{t - 1}")
        out_x = x0 + U_W - 0.3
        if t < steps:
            arrow([(out_x, U_H), (x0 + U_W + U_GAP, U_H)], h_col, f"h_{t}_on", arrowhead=False)
        up = arrow([(out_x, U_H), (out_x, 4.35)], h_col, f"h_{t}_out", z=3)
        up.set_path_effects([patheffects.Stroke(linewidth=6, foreground="white"), patheffects.Normal()])
        text((out_x + 0.12, 4.4), f"$h_{t}$", f"label:h_{t}_out", h_col, ha="left", va="bottom")
        arrow([(x0 + 0.55, -0.35), (x0 + 0.55, 0.5)], x_col, f"x_{t}")
        text((x0 + 0.7, -0.4), f"$x_{t}$", f"label:x_{t}", x_col, ha="left")
        if t < steps:  # the state handed to the next step, labelled in the gap
            text((x0 + U_W + U_GAP / 2, U_C + 0.3), f"$c_{t}$", f"label:c_{t}", c_col)
            text((x0 + U_W + U_GAP / 2, U_H + 0.3), f"$h_{t}$", f"label:h_{t}", h_col)
    x_end = x_in + steps * (U_W + U_GAP) - U_GAP
    arrow([(add[0] + 0.2, U_C), (x_end + 0.6, U_C)], c_col, f"c_{steps}", lw=3.0)
    arrow([(out_x, U_H), (x_end + 0.6, U_H)], h_col, f"h_{steps}")
    text((x_end + 0.62, U_C + 0.3), f"$c_{steps}$", f"label:c_{steps}", c_col, ha="right")
    text((x_end + 0.62, U_H + 0.3), f"$h_{steps}$", f"label:h_{steps}", h_col, ha="right")
    text(((x_in + x_end) / 2, -0.62),
         "the same weights $W_x, W_h, b$ at every step", "label:shared", "#555555", size=9, va="top")
    if backward:
        d = 0.2
        for t in range(steps, 0, -1):
            x0 = x_in + (t - 1) * (U_W + U_GAP)
            stop = left + 0.15 if t == 1 else x0 - U_GAP + 0.05
            begin = x_end + 0.6 if t == steps else x0 + U_W + 0.05
            arrow([(begin, U_C - d - 0.08), (stop, U_C - d - 0.08)], GRAD, f"grad:dc_{t}", lw=2.2, z=7)
            arrow([(begin, U_H - d), (stop, U_H - d)], GRAD, f"grad:dh_{t}", lw=1.8, z=7)
            sw = x0 + 2.56  # between the gates and h's way out
            ax.add_patch(FancyArrowPatch((sw, U_C - 0.42), (sw, U_H - 0.05), arrowstyle="<|-|>",
                                         mutation_scale=10, color=GRAD, lw=1.2, ls="--", zorder=7,
                                         gid=f"edge:grad:switch_{t}"))
        text((x_in + 0.1, -1.3), "red: the gradient, back along c (times $f_t$ at each step) and along h; "
             "dashed: it can switch at every step", "label:grad_rule", GRAD, size=8.5, ha="left")
    if title is None:
        title = (f"the LSTM unrolled over {steps} steps" + (", backward" if backward else "")
                 + (": " + " + ".join(sorted(on, key=list(UNROLLED_PATHS).index)) if on else ""))
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
