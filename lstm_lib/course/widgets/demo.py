"""Chapter 00: a one-slider widget, to see whether sliders work here (sigmoid(a z) for a slope a)."""
import numpy as np

from ...activations import sigmoid
from . import interact, slider


def plot_demo_sigmoid(slope=1.0):
    """The demo widget's figure: sigmoid(slope * z) for z in [-6, 6]."""
    import matplotlib.pyplot as plt

    z = np.linspace(-6, 6, 241)
    fig, ax = plt.subplots(figsize=(5, 2.6), dpi=80)
    ax.plot(z, sigmoid(slope * z))
    ax.set_xlabel("z")
    ax.set_ylabel(f"sigmoid({slope:.1f} z)")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def summary_demo_sigmoid(slope=1.0):
    """The demo widget's readout: the curve's value at z = 1."""
    return f"slope {slope:.1f}: sigmoid({slope:.1f} &middot; 1) = <b>{float(sigmoid(slope)):.3f}</b>"


def demo_widget(slope=1.0):
    """A one-slider widget to see whether sliders work here."""
    return interact(plot_demo_sigmoid, summary_demo_sigmoid,
                    slope=slider("slope a", 0.2, 5.0, 0.1, slope))
