"""Chapter 01: how the gradient of a vanilla RNN shrinks or grows on its way back in time.

The gradient of a loss at the last step T with respect to an earlier state h_t is a product
of one Jacobian per step, dh_k/dh_{k-1} = diag(1 - h_k**2) W_h^T. For the matrix part alone its
size after k steps back behaves like (spectral radius of W_h)**k; the tanh factors change that
(for the random Gaussian W_h used here they take away), and sigma_max(W_h)**k bounds it always.
The chapter writes `gradient_norms` in the open; this copy serves the widget (the notebook
asserts the two equal).
"""
import numpy as np

from ... import cells
from . import interact, slider


def spectral_radius(W):
    """The largest |eigenvalue| of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def recurrent_matrix(hidden, radius, seed=0):
    """A random Gaussian (hidden, hidden) matrix rescaled so that its spectral radius is `radius`."""
    G = np.random.default_rng(seed).standard_normal((hidden, hidden))
    return G * (radius / spectral_radius(G))


def gradient_norms(radius, length, hidden=32, input_scale=0.5, seed=0, nonlinear=True):
    """||dL/dh_t|| for t = 0..length, where L = u . h_T with a unit vector u.

    nonlinear=True: a tanh RNN with W_h = recurrent_matrix(hidden, radius, seed) runs forward
    over `length` random scalar inputs (cells.rnn_step) and the gradient is carried back with
    cells.rnn_step_backward, i.e. multiplied by one Jacobian diag(1 - h_k**2) W_h^T per step.
    nonlinear=False: only the matrix part, the gradient multiplied by W_h^T per step (what the
    RNN would do if tanh' were 1 everywhere).
    Returns an array of length+1 floats; entry t belongs to h_t (entry `length` is 1).
    """
    rng = np.random.default_rng(seed + 1)
    W_h = recurrent_matrix(hidden, radius, seed)
    W_x = rng.standard_normal((1, hidden)) * input_scale
    b = np.zeros(hidden)
    x = rng.standard_normal((length, 1, 1))
    u = rng.standard_normal((1, hidden))
    g = u / np.linalg.norm(u)  # dL/dh_T
    norms = np.empty(length + 1)
    norms[length] = 1.0
    if nonlinear:
        h = np.zeros((1, hidden))
        caches = []
        for t in range(length):
            h, cache = cells.rnn_step(x[t], h, W_x, W_h, b)
            caches.append(cache)
        for t in range(length, 0, -1):
            _, g, _, _, _ = cells.rnn_step_backward(g, caches[t - 1])  # dL/dh_{t-1}
            norms[t - 1] = np.linalg.norm(g)
    else:
        for t in range(length, 0, -1):
            g = g @ W_h.T
            norms[t - 1] = np.linalg.norm(g)
    return norms


def growth_factor(norms):
    """The average factor per step back: exp of the slope of log(norm) against steps back."""
    norms = np.asarray(norms, dtype=float)[::-1]  # index k = steps back from T
    k = np.arange(len(norms))
    keep = np.isfinite(norms) & (norms > 0)
    if keep.sum() < 2:
        return float("nan")
    slope = np.polyfit(k[keep], np.log(norms[keep]), 1)[0]
    return float(np.exp(slope))


def plot_gradient_norms(radius=1.0, length=100, hidden=32):
    """Gradient norm against steps back from T, log scale: the tanh RNN, its matrix part, and
    the reference radius**k."""
    import matplotlib.pyplot as plt

    tanh_rnn = gradient_norms(radius, length, hidden)
    linear = gradient_norms(radius, length, hidden, nonlinear=False)
    k = np.arange(length + 1)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=80)
    ax.semilogy(k, linear[::-1], label="matrix part only: products of $W_h^T$")
    ax.semilogy(k, tanh_rnn[::-1], label="tanh RNN: products of diag$(1-h^2)\\,W_h^T$")
    ax.semilogy(k, float(radius) ** k, "k--", lw=1, label=f"$\\rho^k = {radius:.2f}^k$")
    ax.set_xlabel("k = steps back from the last step T")
    ax.set_ylabel(r"$\|\partial L/\partial h_{T-k}\|$")
    ax.set_title(f"spectral radius $\\rho$ = {radius:.2f}, T = {length}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def summary_gradient_norms(radius=1.0, length=100, hidden=32):
    """The widget's readout: the gradient norm that reaches h_0 and the factor per step."""
    tanh_rnn = gradient_norms(radius, length, hidden)
    linear = gradient_norms(radius, length, hidden, nonlinear=False)
    return (f"&rho; = {radius:.2f}, T = {length}: the gradient reaching h<sub>0</sub> has norm "
            f"<b>{tanh_rnn[0]:.2g}</b> in the tanh RNN (about &times;{growth_factor(tanh_rnn):.3f} "
            f"per step) and <b>{linear[0]:.2g}</b> through the matrices alone "
            f"(&times;{growth_factor(linear):.3f} per step)")


def rnn_gradient_widget(radius=1.0, length=100):
    """Sliders: spectral radius of W_h and sequence length -> gradient norm over time."""
    return interact(plot_gradient_norms, summary_gradient_norms,
                    radius=slider("spectral radius of W_h", 0.5, 2.5, 0.05, radius, fmt=".2f"),
                    length=slider("sequence length T", 10, 300, 10, length, integer=True))


def draw_rnn_unrolled(steps=3):
    """The vanilla RNN over `steps` steps: h handed on through W_h and tanh (black, forward), and
    the gradient handed back through diag(1 - h_k**2) and W_h^T (red, backward). Returns the Figure;
    each drawn element has a gid ("box:k", "edge:h_k", "edge:grad:k", "label:x_k")."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    ink, grad = "#333333", "#d62728"
    fig, ax = plt.subplots(figsize=(1.4 + 2.3 * steps, 2.9), dpi=90)
    ax.set_xlim(-0.2, 1.2 + 2.6 * steps)
    ax.set_ylim(-0.95, 2.45)
    ax.set_aspect("equal")
    ax.axis("off")

    def arrow(a, b, color, gid, lw=1.6, ls="-"):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color=color, lw=lw, ls=ls,
                                     shrinkA=0, shrinkB=0, gid=gid))

    ax.text(0.0, 1.2, "$h_0$", ha="left", va="bottom", fontsize=10, color=ink)
    for k in range(1, steps + 1):
        x0 = 0.6 + 2.6 * (k - 1)
        ax.add_patch(FancyBboxPatch((x0 + 0.45, 0.65), 1.3, 0.7, boxstyle="round,pad=0.05", facecolor="#f7f7f4",
                                    edgecolor="#999999", gid=f"box:{k}"))
        ax.text(x0 + 1.1, 1.0, f"step {k}: tanh", ha="center", va="center", fontsize=9, color=ink, gid=f"text:{k}")
        arrow((x0 - 0.55 if k == 1 else x0 - 0.8, 1.0), (x0 + 0.45, 1.0), ink, f"edge:h_{k - 1}")
        arrow((x0 + 1.1, -0.55), (x0 + 1.1, 0.65), ink, f"edge:x_{k}")
        ax.text(x0 + 1.2, -0.6, f"$x_{k}$", ha="left", va="center", fontsize=10, color=ink, gid=f"label:x_{k}")
        ax.text(x0 + 2.2, 1.2, f"$h_{k}$", ha="center", va="bottom", fontsize=10, color=ink, gid=f"label:h_{k}")
        # backward: from h_k back to h_{k-1}, through diag(1 - h_k^2) W_h^T
        arrow((x0 + 2.05, 0.3), (x0 - 0.55 if k == 1 else x0 - 0.8, 0.3), grad, f"edge:grad:{k}", lw=1.4)
        ax.text(x0 + 0.75, 0.12, f"$J_{k}$", ha="center", va="top", fontsize=9, color=grad)
    arrow((0.6 + 2.6 * (steps - 1) + 1.75, 1.0), (0.6 + 2.6 * steps - 0.2, 1.0), ink, f"edge:h_{steps}")
    ax.text((0.6 + 2.6 * steps) / 2, 2.2, r"forward: $h_k = \tanh(x_k W_x + h_{k-1} W_h + b)$, the same weights at every step",
            ha="center", fontsize=9, color=ink)
    ax.text((0.6 + 2.6 * steps) / 2, 1.85,
            r"backward (red): each step multiplies by $J_k = \mathrm{diag}(1 - h_k^2)\, W_h^T$",
            ha="center", fontsize=9, color=grad)
    fig.tight_layout()
    return fig
