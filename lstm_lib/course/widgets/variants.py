"""Chapter 14 widget: one trained LSTM variant on one sequence of a task, gates and cell state
step by step.

The weights are the study's (experiments/variants.py, seed 0, forget bias 1), shipped in
lstm_lib/course/results/variants_weights.npz for the adding problem and the reset stream.
The plain functions (`trained_model`, `trace`) are tested without a browser.
"""
import functools
import html
from importlib import resources

import numpy as np

from ...datasets import adding_problem
from ..variant_study import adding_model, reset_model, reset_sum_stream

WEIGHTS = "variants_weights.npz"
TASK_LABELS = {"adding": "adding problem (T = 50)", "reset": "running sum with resets"}
RESET_SHOWN = 300  # steps of the reset stream shown


@functools.cache
def _stored():
    with resources.as_file(resources.files("lstm_lib.course.results") / WEIGHTS) as path, \
            np.load(path) as data:
        return {k: data[k] for k in data.files}


def stored_variants(task):
    """The variants whose trained weights for `task` are shipped, in the study's order."""
    return list(dict.fromkeys(k.split("/")[1] for k in _stored() if k.startswith(task + "/")))


def trained_model(task, label):
    """The study's model for `task` ('adding' or 'reset') with variant `label`, seed 0,
    with its trained weights, in float64."""
    if task not in TASK_LABELS:
        raise ValueError(f"task must be one of {list(TASK_LABELS)}, got {task!r}")
    if label not in stored_variants(task):
        raise ValueError(f"no trained weights for {label!r} on {task!r}; "
                         f"stored: {stored_variants(task)}")
    stored = {k.split("/", 2)[2]: v for k, v in _stored().items() if k.startswith(f"{task}/{label}/")}
    H = stored["0.W_h"].shape[0]
    build = adding_model if task == "adding" else reset_model
    model = build(label, H, rng=np.random.default_rng(0))
    for k, p in model.params.items():
        p[...] = stored[k]
    return model.astype(np.float64)


def example(task, seq=0):
    """Input x (1, T, 2) and target of sequence `seq` of a task (fixed seeds, not seen in training)."""
    rng = np.random.default_rng(50_000 + seq)
    if task == "adding":
        return adding_problem(1, 50, rng=rng, dtype=np.float64)
    x, y = reset_sum_stream(1, RESET_SHOWN, rng)
    return x.astype(np.float64), y.astype(np.float64)


@functools.cache
def memory_unit(task, label):
    """The unit whose cell state follows the target most closely on 200 held-out sequences
    (adding: c_T against the sum; reset: c_t against the running sum): (unit, correlation)."""
    model = trained_model(task, label)
    if task == "adding":
        x, y = adding_problem(200, 50, rng=np.random.default_rng(77), dtype=np.float64)
        model.forward(x)
        c, target = model.layers[0].gate_traces()["c"][:, -1], y[:, 0]  # (200, H), (200,)
    else:
        x, y = reset_sum_stream(8, 500, np.random.default_rng(77))
        model.forward(x.astype(np.float64))
        H = model.rec.hidden_size
        c, target = model.rec.gate_traces()["c"].reshape(-1, H), y.reshape(-1)
    corr = np.array([np.corrcoef(c[:, u], target)[0, 1] if c[:, u].std() > 0 else 0.0
                     for u in range(c.shape[1])])
    unit = int(np.nanargmax(np.abs(corr)))
    return unit, float(corr[unit])


def trace(task, label, seq=0):
    """Everything the widget shows for one sequence: x, target, prediction, the gates and the
    cell of every unit (each (T, H)), and the memory unit."""
    model = trained_model(task, label)
    x, y = example(task, seq)
    if task == "reset":
        model.reset_state()
    with np.errstate(over="ignore", invalid="ignore"):
        pred = model.forward(x)
    rec = model.layers[0]
    gates = {k: v[0] for k, v in rec.gate_traces().items()}
    unit, corr = memory_unit(task, label)
    return {"x": x[0], "y": y[0, :, 0] if task == "reset" else y[0], "pred": pred[0], "gates": gates,
            "unit": unit, "corr": corr}


def plot_variant(task="reset", label="vanilla", seq=0):
    import matplotlib.pyplot as plt

    tr = trace(task, label, seq)
    x, g, u = tr["x"], tr["gates"], tr["unit"]
    T = len(x)
    t = np.arange(T)
    marks = np.flatnonzero(x[:, 1])
    fig, axes = plt.subplots(5, 1, figsize=(7.5, 7.6), dpi=80, sharex=True,
                             gridspec_kw={"height_ratios": [1, 1.2, 1.2, 1, 1.2]})
    axes[0].bar(t, x[:, 0], color="0.75", width=1.0)
    axes[0].bar(marks, x[marks, 0], color="tab:red", width=1.0)
    axes[0].set_ylabel("input")
    axes[0].set_title(f"{label} on the {TASK_LABELS[task]}, sequence {seq}; markers in red", fontsize=10)
    for name, color in (("i", "tab:green"), ("f", "tab:blue"), ("o", "tab:pink")):
        axes[1].plot(t, g[name][:, u], color=color, lw=1.2)
    axes[1].set_ylim(-0.05, 1.05)
    axes[1].set_ylabel("gates")
    axes[1].set_title(f"memory unit {u}: input gate i (green), forget gate f (blue), output gate o (pink)",
                      fontsize=9)
    axes[2].plot(t, g["c"][:, u], color="tab:orange", lw=1.8)
    axes[2].set_ylabel("cell c")
    axes[2].set_title(f"memory unit {u}: cell state", fontsize=9)
    axes[3].plot(t, np.abs(g["c"]).max(axis=1), color="0.3", lw=1.2)
    axes[3].set_ylabel("max |c|")
    axes[3].set_title("largest |c| of any unit", fontsize=9)
    if task == "reset":
        axes[4].plot(t, tr["y"], color="0.3", lw=1.2, label="target")
        axes[4].plot(t, tr["pred"][:, 0], color="tab:orange", lw=1.2, label="prediction")
    else:
        axes[4].axhline(tr["y"][0], color="0.3", lw=1.2, label=f"target {tr['y'][0]:.2f}")
        axes[4].plot([T - 1], tr["pred"], "o", color="tab:orange", label=f"prediction {tr['pred'][0]:.2f}")
        axes[4].set_ylim(0, 2)
    axes[4].legend(loc="upper left", fontsize=7)
    axes[4].set_ylabel("output")
    axes[4].set_xlabel("time step")
    for ax in axes[1:]:
        for m in marks:
            ax.axvline(m, color="tab:red", lw=0.5, ls=":")
    fig.tight_layout()
    return fig


def variant_summary(task="reset", label="vanilla", seq=0):
    tr = trace(task, label, seq)
    c = tr["gates"]["c"]
    if task == "reset":
        err = float(np.mean((tr["pred"][:, 0] - tr["y"]) ** 2) / np.var(tr["y"]))
        result = f"MSE / Var(target) on this stream: <b>{err:.3f}</b>"
    else:
        result = f"target <b>{tr['y'][0]:.3f}</b>, prediction <b>{tr['pred'][0]:.3f}</b>"
    return (f"{html.escape(label)}, {TASK_LABELS[task]}, sequence {seq}: {result}; "
            f"largest |c| of any unit: <b>{np.abs(c).max():.2f}</b>; memory unit {tr['unit']} "
            f"(correlation with the target {tr['corr']:+.2f})")


def variant_widget(task="reset", label="vanilla"):
    """Pick a task, a variant and a held-out sequence: the figure redraws that variant's gates,
    the cell state of its memory unit and the largest cell state of any unit step by step, and
    the readout says how close its output comes to the target."""
    import ipywidgets as w

    from . import interact, slider

    style = {"description_width": "initial"}
    return interact(plot_variant, variant_summary,
                    seq=slider("sequence", 0, 19, 1, 0, integer=True),
                    task=w.Dropdown(options=[(v, k) for k, v in TASK_LABELS.items()], value=task,
                                    description="task", style=style),
                    label=w.Dropdown(options=stored_variants(task), value=label,
                                     description="variant", style=style))
