"""Chapter 13's widget: a cost model of one LSTM time step, three parts against the hidden
size: a fixed cost for the Python lines and NumPy calls, the matrix products at a given speed,
and elementwise work proportional to batch x hidden. `lstm_lib.profiling` measures the same
three parts on the real layer."""
import numpy as np

from ...profiling import matmul_flops
from . import interact, slider


def step_time_model(batch, hidden, input_size=1, overhead_us=15.0, gflops=50.0, elem_ns=25.0):
    """Predicted microseconds per time step (forward + backward) of the fast LSTM layer, in
    three parts: a fixed cost for the Python lines and NumPy calls (`overhead_us`), the matrix
    products at `gflops` (6 * batch * 4 hidden * (input + hidden) operations), and the
    elementwise work, `elem_ns` nanoseconds per batch row and hidden unit.
    `hidden` may be an array. Returns a dict of arrays/floats."""
    hidden = np.asarray(hidden, dtype=float)
    flops = matmul_flops(4, batch, 1, input_size, hidden).astype(float)  # one time step
    return {"overhead": np.full_like(hidden, overhead_us), "matmul": flops / (gflops * 1e3),
            "elementwise": batch * hidden * elem_ns / 1e3}


def crossover_hidden(batch, input_size=1, overhead_us=15.0, gflops=50.0, elem_ns=25.0):
    """The hidden size at which the matrix products start to cost more than the overhead."""
    hs = np.arange(1, 4097)
    m = step_time_model(batch, hs, input_size, overhead_us, gflops, elem_ns)
    above = np.nonzero(m["matmul"] > m["overhead"])[0]
    return int(hs[above[0]]) if len(above) else None


def plot_step_time(batch=32, overhead_us=15.0, gflops=50.0, input_size=1, elem_ns=25.0):
    """Stacked shares of one step's time against the hidden size (log axis)."""
    import matplotlib.pyplot as plt
    hs = np.unique(np.geomspace(4, 2048, 120).astype(int))
    m = step_time_model(batch, hs, input_size, overhead_us, gflops, elem_ns)
    total = m["overhead"] + m["matmul"] + m["elementwise"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.7), dpi=80)
    ax1.stackplot(hs, 100 * m["overhead"] / total, 100 * m["elementwise"] / total,
                  100 * m["matmul"] / total, labels=["Python + NumPy calls", "elementwise",
                                                     "matrix products"],
                  colors=["#d95f02", "#7570b3", "#1b9e77"], alpha=0.85)
    ax1.set(xscale="log", xlabel="hidden size H", ylabel="share of a step's time (%)",
            ylim=(0, 100), title=f"batch {batch}: shares (model)")
    for k, c, label in (("overhead", "#d95f02", "Python + NumPy calls"),
                        ("elementwise", "#7570b3", "elementwise"),
                        ("matmul", "#1b9e77", "matrix products")):
        ax2.plot(hs, m[k], color=c, label=label)
    ax2.plot(hs, total, "k--", label="total")
    ax2.set(xscale="log", yscale="log", xlabel="hidden size H", ylabel="microseconds per step",
            title="time per step (model)")
    # one legend for both panels, below them, so that it covers no part of either
    fig.legend(*ax2.get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=8, frameon=False)
    cross = crossover_hidden(batch, input_size, overhead_us, gflops, elem_ns)
    if cross is not None:
        for ax in (ax1, ax2):
            ax.axvline(cross, color="gray", lw=1, ls=":")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def step_time_summary(batch=32, overhead_us=15.0, gflops=50.0, input_size=1, elem_ns=25.0):
    """The widget's readout: where the matrix products take over."""
    cross = crossover_hidden(batch, input_size, overhead_us, gflops, elem_ns)
    m = step_time_model(batch, 128, input_size, overhead_us, gflops, elem_ns)
    total = float(m["overhead"] + m["matmul"] + m["elementwise"])
    where = (f"the matrix products cost more than the calls from H = {cross} on"
             if cross is not None else "the calls cost more than the products for every H up to 4096")
    return (f"batch {batch}: {where}; at H = 128 a step takes about {total:.0f} µs, "
            f"{100 * float(m['overhead']) / total:.0f}% of it in Python and NumPy calls")


def step_cost_widget(batch=32, overhead_us=15.0, gflops=50.0, elem_ns=25.0):
    """Sliders for the batch, the calls' cost, the products' speed and the elementwise cost."""
    return interact(plot_step_time, step_time_summary,
                    batch=slider("batch", 1, 256, 1, batch, integer=True),
                    overhead_us=slider("calls, us per step", 1.0, 40.0, 1.0, overhead_us),
                    gflops=slider("matmul GFLOP/s", 5.0, 200.0, 5.0, gflops),
                    elem_ns=slider("elementwise, ns per row x unit", 5.0, 60.0, 1.0, elem_ns))
