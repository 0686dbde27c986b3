"""Chapter 04: the cell-state highway. Along the cell path the gradient is multiplied only by
forget gates, dc_{t-1} = dc_t * f_t, with no weight matrix and no tanh derivative; measured here
with the library's real LSTM and RNN layers.
"""
import numpy as np

from ...activations import sigmoid
from ...lstm import LSTM
from ...rnn import RNN
from . import interact, slider

FLOAT32_RESOLUTION = float(np.finfo(np.float32).eps)  # 1.2e-7: smaller relative parts get lost


def cell_path_gradient(forget_bias=1.0, length=50, hidden=8, seed=0):
    """Gradient of L = u . c_T with respect to c_0 through a real L.LSTM whose recurrent weights
    are zero, so that the cell path is the only way back. Returns (dc0, predicted) where
    predicted = u * prod_t f_t, with the forget gates f_t recomputed from the layer's weights."""
    rng = np.random.default_rng(seed)
    lstm = LSTM(1, hidden, forget_bias=forget_bias, dtype=np.float64, rng=rng)
    lstm.params["W_h"][...] = 0.0
    x = rng.standard_normal((1, length, 1))
    out = lstm.forward(x)
    u = rng.standard_normal((1, hidden))
    lstm.backward(np.zeros_like(out), dc_T=u)
    H = hidden
    f = sigmoid(x[0] @ lstm.params["W_x"][:, H:2 * H] + lstm.params["b"][H:2 * H])  # (T, H)
    return lstm.dstate0[1], u * np.prod(f, axis=0)


def _input_gradient_norms(layer, length, batch, input_scale, rng):
    """||dL/dx_t|| for a loss L = u . h_T at the last step (geometric mean over the batch),
    divided by its value at the last step."""
    x = rng.standard_normal((batch, length, 1)) * input_scale
    out = layer.forward(x)
    d = np.zeros_like(out)
    u = rng.standard_normal((batch, out.shape[2]))
    d[:, -1] = u / np.linalg.norm(u, axis=1, keepdims=True)
    dx = layer.backward(d)
    norms = np.linalg.norm(dx, axis=2)  # (batch, T)
    with np.errstate(divide="ignore"):
        g = np.exp(np.log(norms).mean(axis=0))
    return g / g[-1]


def gradient_survival(forget_bias=1.0, length=100, hidden=16, batch=16, input_scale=2.0, seed=0):
    """How much of the gradient of a loss at the last step reaches the input at each earlier
    step, for L.LSTM(forget_bias=...) and L.RNN with the library's default initialisation
    (same seed, same inputs). Returns dict(lstm=array(length), rnn=array(length)); entry t is
    ||dL/dx_t|| / ||dL/dx_T||, so the last entry is 1."""
    result = {}
    for name in ("lstm", "rnn"):
        rng = np.random.default_rng(seed)
        if name == "lstm":
            layer = LSTM(1, hidden, forget_bias=forget_bias, dtype=np.float64, rng=rng)
        else:
            layer = RNN(1, hidden, dtype=np.float64, rng=rng)
        result[name] = _input_gradient_norms(layer, length, batch, input_scale,
                                             np.random.default_rng(seed + 1))
    return result


def path_ablation(forget_bias=1.0, length=100, hidden=16, batch=16, input_scale=2.0, seed=0):
    """The LSTM's gradient survival (as in gradient_survival) with both paths back in time, with
    the cell path alone (recurrent weights W_h set to zero, so nothing flows back through h),
    and with the h path alone (forget bias -30, so f is about 1e-13 and the cell forgets at
    once). Returns dict(both=, cell_only=, h_only=) of the share reaching the first step."""
    shares = {}
    for name, bias, zero_wh in (("both", forget_bias, False), ("cell_only", forget_bias, True),
                                ("h_only", -30.0, False)):
        layer = LSTM(1, hidden, forget_bias=bias, dtype=np.float64, rng=np.random.default_rng(seed))
        if zero_wh:
            layer.params["W_h"][...] = 0.0
        shares[name] = float(_input_gradient_norms(layer, length, batch, input_scale,
                                                   np.random.default_rng(seed + 1))[0])
    return shares


def plot_survival(forget_bias=1.0, length=100):
    """The widget's figure: gradient reaching each earlier step, LSTM next to RNN, log scale."""
    import matplotlib.pyplot as plt

    s = gradient_survival(forget_bias, length)
    k = np.arange(length)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=80)
    ax.semilogy(k, s["lstm"][::-1], label=f"LSTM, forget bias {forget_bias:.1f}")
    ax.semilogy(k, s["rnn"][::-1], label="vanilla RNN")
    ax.axhline(FLOAT32_RESOLUTION, color="gray", ls="--", lw=1)
    ax.text(0, FLOAT32_RESOLUTION * 1.6, "float32 resolution: below this a gradient is lost",
            fontsize=8, color="gray")
    ax.set_xlabel("k = steps back from the last step")
    ax.set_ylabel(r"$\|\partial L/\partial x_{T-k}\|$ / $\|\partial L/\partial x_T\|$")
    ax.set_title(f"gradient survival over T = {length} steps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def summary_survival(forget_bias=1.0, length=100):
    """The widget's readout: the share of the gradient that reaches the first step."""
    s = gradient_survival(forget_bias, length)
    f = float(sigmoid(forget_bias))

    def word(v):
        return "vanished" if v < FLOAT32_RESOLUTION else "survives"

    return (f"forget bias {forget_bias:.1f} (resting forget gate {f:.3f}), T = {length}: the first "
            f"step receives <b>{s['lstm'][0]:.1e}</b> of the last step's gradient in the LSTM "
            f"({word(s['lstm'][0])}) and <b>{s['rnn'][0]:.1e}</b> in the RNN ({word(s['rnn'][0])})")


def highway_widget(forget_bias=1.0, length=100):
    """Sliders: forget bias and sequence length -> gradient survival, LSTM next to RNN."""
    return interact(plot_survival, summary_survival,
                    forget_bias=slider("forget-gate bias", -2.0, 5.0, 0.5, forget_bias, fmt=".1f"),
                    length=slider("sequence length T", 10, 300, 10, length, integer=True))
