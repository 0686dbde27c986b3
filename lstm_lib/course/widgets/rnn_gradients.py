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
