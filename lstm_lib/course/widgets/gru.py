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
    from . import interact, slider

    return interact(plot_update_gate, update_gate_summary,
                    z_bias=slider("update-gate bias b_z", -2.0, 8.0, 0.5, 3.0),
                    steps=slider("steps", 20, 200, 10, 60, integer=True))
