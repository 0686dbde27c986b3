"""Chapter 04: the cell-state highway. Along the cell path the gradient is multiplied only by
forget gates, dc_{t-1} = dc_t * f_t, with no weight matrix and no tanh derivative.

The chapter writes these measurements in the open; the copies here serve the widget and the
tests (the notebook asserts that they give the same numbers):

- `survival(layer, x, u)`: ||dL/dx_t|| / ||dL/dx_T|| for a loss u . h_T at the last step;
- `gradient_survival(...)`: that for L.LSTM and L.RNN on the same inputs;
- `path_ablation(...)`: one LSTM, three backward passes (both ways back, the highway alone,
  the h path alone), the paths cut in the backward pass only, and what is left: the routes
  that switch between the two (by linearity the four parts add up to the full gradient).
"""
import numpy as np

from ... import cells
from ...activations import sigmoid
from ...lstm import LSTM
from ...rnn import RNN
from . import interact, slider

FLOAT32_RESOLUTION = float(np.finfo(np.float32).eps)  # 1.2e-7: 1 + (anything smaller) == 1 in float32


def lstm_caches(lstm, x):
    """Run the layer's weights over x (B, T, I) with cells.lstm_step; the caches of every step."""
    p, (B, T, _), H = lstm.params, x.shape, lstm.hidden_size
    h, c, caches = np.zeros((B, H)), np.zeros((B, H)), []
    for t in range(T):
        h, c, cache = cells.lstm_step(x[:, t], h, c, p["W_x"], p["W_h"], p["b"])
        caches.append(cache)
    return caches


def backward(caches, dh, dc, through_h=True, through_c=True):
    """From the gradients dh, dc at h_T, c_T back to the start; returns dx (B, T, I) and
    (dh_0, dc_0). through_h=False / through_c=False drops dh_prev / dc_prev at every step:
    that way back is cut in the backward pass only, the forward pass is untouched."""
    dx = []
    for cache in reversed(caches):
        dx_t, dh_prev, dc_prev, *_ = cells.lstm_step_backward(dh, dc, cache)
        dx.append(dx_t)
        dh = dh_prev if through_h else np.zeros_like(dh_prev)
        dc = dc_prev if through_c else np.zeros_like(dc_prev)
    return np.stack(dx[::-1], axis=1), (dh, dc)


def batch_norms(dx):
    """||dx_t|| per sequence, geometric mean over the batch: (B, T, I) -> (T,)."""
    with np.errstate(divide="ignore"):
        return np.exp(np.log(np.linalg.norm(dx, axis=2)).mean(axis=0))


def survival(layer, x, u):
    """||dL/dx_t|| / ||dL/dx_T|| for t = 1..T, L = sum_b u_b . h_{b,T} (geometric mean over
    the batch), through the layer's own forward and backward."""
    out = layer.forward(x)  # (B, T, H)
    d_out = np.zeros_like(out)
    d_out[:, -1] = u  # the loss sits on the last output only
    g = batch_norms(layer.backward(d_out))  # (T,)
    return g / g[-1]


def inputs(length, hidden=16, batch=16, input_scale=2.0, seed=0):
    """The random inputs x (batch, length, 1) and unit loss vectors u (batch, hidden)."""
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((batch, length, 1)) * input_scale
    u = rng.standard_normal((batch, hidden))
    return x, u / np.linalg.norm(u, axis=1, keepdims=True)


def gradient_survival(forget_bias=1.0, length=100, hidden=16, batch=16, input_scale=2.0, seed=0):
    """survival() of L.LSTM(forget_bias=...) and L.RNN, default initialisation from the same
    seed, on the same inputs. Returns dict(lstm=array(length), rnn=array(length))."""
    x, u = inputs(length, hidden, batch, input_scale, seed)
    lstm = LSTM(1, hidden, forget_bias=forget_bias, dtype=np.float64, rng=np.random.default_rng(seed))
    rnn = RNN(1, hidden, dtype=np.float64, rng=np.random.default_rng(seed))
    return {"lstm": survival(lstm, x, u), "rnn": survival(rnn, x, u)}


def path_ablation(forget_bias=1.0, length=100, hidden=16, batch=16, input_scale=2.0, seed=0):
    """One L.LSTM, one forward pass, three backward passes of L = u . h_T. Returns the dx of
    each, dict(both=, highway=, h=, mixed=) with mixed = both - highway - h (the routes that
    switch between the cell and h at least once), and the forget gates f (T, B, H)."""
    x, u = inputs(length, hidden, batch, input_scale, seed)
    lstm = LSTM(1, hidden, forget_bias=forget_bias, dtype=np.float64, rng=np.random.default_rng(seed))
    caches = lstm_caches(lstm, x)
    zero = np.zeros_like(u)
    dx = {"both": backward(caches, u, zero)[0],
          "highway": backward(caches, u, zero, through_h=False)[0],
          "h": backward(caches, u, zero, through_c=False)[0]}
    dx["mixed"] = dx["both"] - dx["highway"] - dx["h"]
    dx["f"] = np.array([cache.f for cache in caches])
    return dx


def plot_survival(forget_bias=1.0, length=100):
    """The widget's figure: gradient reaching each earlier step, LSTM next to RNN, log scale."""
    import matplotlib.pyplot as plt

    s = gradient_survival(forget_bias, length)
    k = np.arange(length)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=80)
    ax.semilogy(k, s["lstm"][::-1], label=f"LSTM, forget bias {forget_bias:.1f}")
    ax.semilogy(k, s["rnn"][::-1], label="vanilla RNN")
    ax.axhline(FLOAT32_RESOLUTION, color="gray", ls="--", lw=1)
    ax.text(0, FLOAT32_RESOLUTION * 1.6, "float32 resolution (1.2e-7)",
            fontsize=8, color="gray")
    ax.set_xlabel("k = steps back from the last step")
    ax.set_ylabel(r"$\|\partial L/\partial x_{T-k}\|$ / $\|\partial L/\partial x_T\|$")
    ax.set_title(f"gradient survival over T = {length} steps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def summary_survival(forget_bias=1.0, length=100):
    """The widget's readout: the ratio that reaches the first step."""
    s = gradient_survival(forget_bias, length)
    f = float(sigmoid(forget_bias))

    def word(v):
        return "lost in a float32 sum" if v < FLOAT32_RESOLUTION else "survives"

    return (f"forget bias {forget_bias:.1f} (forget gate {f:.3f} when its input is 0), T = {length}: "
            f"the first step receives <b>{s['lstm'][0]:.1e}</b> of the last step's gradient in "
            f"the LSTM ({word(s['lstm'][0])}) and <b>{s['rnn'][0]:.1e}</b> in the RNN "
            f"({word(s['rnn'][0])})")


def highway_widget(forget_bias=1.0, length=100):
    """Sliders: forget bias and sequence length -> gradient survival, LSTM next to RNN."""
    return interact(plot_survival, summary_survival,
                    forget_bias=slider("forget-gate bias", -2.0, 5.0, 0.5, forget_bias, fmt=".1f"),
                    length=slider("sequence length T", 10, 300, 10, length, integer=True))
