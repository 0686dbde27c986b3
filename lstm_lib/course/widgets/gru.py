"""Chapter 09 widget: the GRU's update gate decides how much of the old state survives.

A one-unit GRU (torch's equations, `cells.gru_step`) sees a single input pulse at step
`pulse_at`. The pulse closes the update gate for that one step so the candidate is written;
afterwards the input is zero, the candidate is tanh(0) = 0, and each step keeps the fraction
z = sigmoid(b_z) of the state: after k steps z**k of the stored value is left. The gradient
of h_T with respect to the stored value is the same product of update gates.
"""
import numpy as np

from ...activations import sigmoid
from ...cells import gru_step

PULSE_AT = 5
WRITE_WEIGHT = -12.0  # the pulse's weight into the update gate: z ~ 0 at the pulse (write)
CANDIDATE_WEIGHT = 3.0  # the pulse's weight into the candidate: n = tanh(3) ~ 0.995


def update_gate_trace(z_bias=3.0, steps=60, pulse_at=PULSE_AT):
    """Run the one-unit GRU over `steps` steps with a pulse of 1 at `pulse_at`.

    Returns a dict of arrays over time: x (input), z (update gate), h (state), and
    `survival`: the fraction of the value stored at the pulse still present at each later
    step (h_t / h_pulse, NaN before the pulse)."""
    if not 0 <= pulse_at < steps:
        raise ValueError(f"pulse_at must be in [0, {steps}), got {pulse_at}")
    W_x = np.array([[0.0, WRITE_WEIGHT, CANDIDATE_WEIGHT]])  # (1, 3): r, z, n columns
    W_h = np.zeros((1, 3))
    b = np.array([0.0, z_bias, 0.0])
    b_hn = np.zeros(1)
    x = np.zeros(steps)
    x[pulse_at] = 1.0
    h = np.zeros((1, 1))
    zs, hs = np.zeros(steps), np.zeros(steps)
    for t in range(steps):
        h_new, cache = gru_step(x[t:t + 1, None], h, W_x, W_h, b, b_hn)
        zs[t] = cache.z[0, 0]
        h = h_new
        hs[t] = h[0, 0]
    survival = np.full(steps, np.nan)
    survival[pulse_at:] = hs[pulse_at:] / hs[pulse_at]
    return {"x": x, "z": zs, "h": hs, "survival": survival}


def half_life(z_bias):
    """Steps until half of the stored value is left: log(0.5) / log(sigmoid(b_z))."""
    z = float(sigmoid(np.float64(z_bias)))
    return float(np.log(0.5) / np.log(z))


def update_gate_summary(z_bias=3.0, steps=60, pulse_at=PULSE_AT):
    tr = update_gate_trace(z_bias, steps, pulse_at)
    z = float(sigmoid(np.float64(z_bias)))
    k = steps - 1 - pulse_at
    left = tr["survival"][-1]
    return (f"update gate z = sigmoid({z_bias:.1f}) = <b>{z:.3f}</b> after the pulse; "
            f"after {k} steps <b>{100 * left:.1f}%</b> of the stored value is left "
            f"(z<sup>{k}</sup> = {z ** k:.3g}); half-life {half_life(z_bias):.1f} steps")


def plot_update_gate(z_bias=3.0, steps=60, pulse_at=PULSE_AT):
    import matplotlib.pyplot as plt

    tr = update_gate_trace(z_bias, steps, pulse_at)
    t = np.arange(steps)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 4.2), dpi=80, sharex=True)
    ax1.step(t, tr["x"], where="mid", color="0.5", label="input pulse x")
    ax1.plot(t, tr["z"], color="tab:orange", label="update gate z")
    ax1.set_ylim(-0.05, 1.1)
    ax1.legend(loc="center right", fontsize=8)
    ax1.set_title("z near 1 keeps the old state; the pulse sets z ~ 0 once, to write")
    ax2.plot(t, tr["h"], color="tab:blue", lw=2, label="state h")
    z = float(sigmoid(np.float64(z_bias)))
    k = np.arange(steps - pulse_at)
    ax2.plot(t[pulse_at:], tr["h"][pulse_at] * z ** k, "k--", lw=1, label="h_pulse * z^k")
    ax2.set_ylim(-0.05, 1.1)
    ax2.set_xlabel("time step")
    ax2.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def update_gate_widget():
    """Move the update-gate bias b_z: the closer z sits to 1, the longer the GRU's state keeps what
    the pulse wrote, and the readout gives the share left after the steps chosen."""
    from . import interact, slider

    return interact(plot_update_gate, update_gate_summary,
                    z_bias=slider("update-gate bias b_z", -2.0, 8.0, 0.5, 3.0),
                    steps=slider("steps", 20, 200, 10, 60, integer=True))


# --- the GRU cell, drawn ----------------------------------------------------------------------

GRU_COLORS = {"reset": "tab:orange", "update": "tab:blue", "candidate": "tab:purple",
              "state": "#444444", "inputs": "#777777"}
GRU_PARTS = tuple(GRU_COLORS)


def draw_gru_cell(highlight=None, ax=None, title=None):
    """The GRU cell of chapter 09 (torch's equations): one state h, a reset gate r, an update
    gate z and a candidate n. `highlight` names parts to draw in colour (any of GRU_PARTS:
    'reset', 'update', 'candidate', 'state', 'inputs'; None colours them all); the rest is
    grey. Returns the figure. Every drawn part has a gid 'gru:<name>' (the tests find them)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    on = set(GRU_PARTS) if highlight is None else ({highlight} if isinstance(highlight, str) else set(highlight))
    unknown = on - set(GRU_PARTS)
    if unknown:
        raise ValueError(f"unknown part(s) {sorted(unknown)}: choose from {list(GRU_PARTS)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.2, 4.4), dpi=80)
    fig = ax.figure

    def col(part):
        return GRU_COLORS[part] if part in on else "#c8c8c8"

    def edge(points, part, name, lw=1.6, arrow=True):
        for k in range(len(points) - 2):
            (x0, y0), (x1, y1) = points[k], points[k + 1]
            ax.plot([x0, x1], [y0, y1], color=col(part), lw=lw, zorder=2, solid_capstyle="round")
        ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>" if arrow else "-",
                                     mutation_scale=12, color=col(part), lw=lw, zorder=2, gid=f"gru:{name}",
                                     shrinkA=0, shrinkB=0))

    def node(xy, sign, part, name):
        ax.add_patch(Circle(xy, 0.22, facecolor="white", edgecolor=col(part), lw=1.6, zorder=4, gid=f"gru:{name}"))
        ax.text(*xy, sign, ha="center", va="center", fontsize=12, color=col(part), zorder=5)

    def box(xy, text, part, name, w=0.9):
        ax.add_patch(FancyBboxPatch((xy[0] - w / 2, xy[1] - 0.3), w, 0.6, boxstyle="round,pad=0.05",
                                    facecolor="white", edgecolor=col(part), lw=1.8, zorder=4, gid=f"gru:{name}"))
        ax.text(*xy, text, ha="center", va="center", fontsize=11, color=col(part), zorder=5)

    def label(xy, text, part, **kw):
        ax.text(*xy, text, fontsize=kw.pop("fontsize", 10), color=col(part), zorder=6, **kw)

    top, bus, xline = 5.0, 1.0, 0.45
    ax.add_patch(FancyBboxPatch((1.3, 0.7), 8.2, 4.75, boxstyle="round,pad=0.1", facecolor="#f7f7f4",
                                edgecolor="#bbbbbb", lw=1, zorder=0))
    # the state: in at the left, kept by z, added to (1 - z) n, out at the right
    edge([(0.3, top), (4.18, top)], "state", "h_prev", lw=3)
    edge([(4.62, top), (8.38, top)], "state", "kept", lw=3)
    edge([(8.82, top), (10.7, top)], "state", "h", lw=3)
    edge([(9.9, top), (9.9, 5.9)], "state", "h_out", lw=1.6)
    label((0.25, top + 0.18), r"$h_{t-1}$", "state", fontsize=12)
    label((10.1, top + 0.18), r"$h_t$", "state", fontsize=12)
    # inputs: h_{t-1} and x_t feed the two gates; x_t alone feeds the candidate's input side
    edge([(0.9, top), (0.9, bus), (4.4, bus)], "inputs", "bus", arrow=False)
    edge([(1.6, 0.1), (1.6, bus)], "inputs", "x", arrow=False)
    edge([(1.6, xline), (6.4, xline), (6.4, 3.2)], "inputs", "x_to_n")
    label((1.7, 0.05), r"$x_t$", "inputs", fontsize=12)
    label((4.5, xline - 0.33), r"$x_t W_{xn} + b_n$", "candidate", fontsize=9)
    # reset gate: scales what the old state proposes for the candidate
    edge([(2.4, bus), (2.4, 1.6)], "reset", "to_r")
    box((2.4, 1.9), r"$\sigma$  r", "reset", "r")
    edge([(2.4, 2.2), (2.4, 3.28)], "reset", "r_out")
    edge([(2.4, top), (2.4, 3.72)], "reset", "hn")
    label((2.5, 4.25), r"$h_{t-1} W_{hn} + b_{hn}$", "reset", fontsize=9)
    node((2.4, 3.5), r"$\times$", "reset", "reset_mul")
    edge([(2.62, 3.5), (5.7, 3.5)], "candidate", "to_n")
    # candidate
    box((6.4, 3.5), r"$\tanh$  n", "candidate", "n", w=1.3)
    edge([(7.1, 3.5), (8.38, 3.5)], "candidate", "n_out")
    node((8.6, 3.5), r"$\times$", "candidate", "write")
    edge([(8.6, 3.72), (8.6, 4.78)], "candidate", "written")
    node((8.6, top), "+", "state", "blend")
    # update gate: z keeps the old state, 1 - z writes the candidate
    edge([(4.4, bus), (4.4, 1.6)], "update", "to_z")
    box((4.4, 1.9), r"$\sigma$  z", "update", "z")
    edge([(4.4, 2.2), (4.4, 4.78)], "update", "z_keep")
    node((4.4, top), r"$\times$", "update", "keep")
    edge([(4.85, 1.9), (8.6, 1.9), (8.6, 2.35)], "update", "z_to_write", arrow=False)
    box((8.6, 2.6), r"$1 - z$", "update", "one_minus_z", w=0.8)
    edge([(8.6, 2.9), (8.6, 3.28)], "update", "one_minus_z_out")
    label((4.55, 4.1), "keep: z", "update", fontsize=9)
    label((8.85, 4.1), "write: 1 - z", "update", fontsize=9)
    ax.text(6.0, 5.62, r"$h_t = z \odot h_{t-1} + (1 - z) \odot n$", ha="center", fontsize=11, color="#222222")
    ax.set_xlim(0, 11)
    ax.set_ylim(-0.2, 6.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return fig
