"""Plots of a race (race.RaceResult): a static matplotlib figure, a zoomable plotly one, and
both written to a folder (what `python -m lstm_lib compare` leaves in out/compare)."""
import pathlib

import numpy as np

from .race import MODELS
from .series import InputError, x_axis


def plot_png(race, path=None, context=None, dpi=90):
    """Matplotlib figure: the whole series with the test stretch shaded (top), and the test
    stretch with each model's predictions of the first seed (bottom). Saved to `path` if given."""
    import matplotlib.pyplot as plt

    data = race.data
    s = data.series
    x = x_axis(s.labels)
    nt, nv = data.test_start, data.val_start
    unit = s.unit or "value"
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(9, 6.5), gridspec_kw={"height_ratios": [1, 1.6]})
    ax0.plot(x, s.values, color="0.3", lw=0.9)
    if data.n_val:
        ax0.axvspan(x[nv], x[nt - 1], color="tab:green", alpha=0.15, label="validation stretch")
    ax0.axvspan(x[nt], x[-1], color="tab:orange", alpha=0.15, label="test stretch")
    ax0.set_title(f"{s.name}: training part, {'validation and ' * bool(data.n_val)}test stretch")
    ax0.set_ylabel(unit)
    ax0.legend(loc="upper left")
    start = max(nt - (context if context is not None else data.n_test // 3), 0)
    ax1.plot(x[start:], s.values[start:], color="black", lw=2.2, label="truth")
    for r in race.results:
        ax1.plot(x[nt:], r.pred, lw=1.1, label=r.name, ls="--" if MODELS[r.key].baseline else "-")
    ax1.axvline(x[nt], color="0.5", lw=0.8, ls=":")
    ax1.set_title(f"one-step-ahead predictions on the test stretch (seed {race.seeds[0]})")
    ax1.set_ylabel(unit)
    ax1.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig


def plot_plotly(race):
    """Plotly figure of the same: the whole series and every model's test predictions (zoom in)."""
    import plotly.graph_objects as go

    data = race.data
    s = data.series
    x = x_axis(s.labels)
    nt = data.test_start
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=np.round(s.values, 4), name="truth",
                             line={"color": "black", "width": 2}))
    for r in race.results:
        dash = "dash" if MODELS[r.key].baseline else "solid"
        fig.add_trace(go.Scatter(x=x[nt:], y=np.round(r.pred, 4), name=r.name,
                                 line={"width": 1.3, "dash": dash}))
    fig.add_vrect(x0=x[nt], x1=x[-1], fillcolor="orange", opacity=0.12, line_width=0)
    fig.update_layout(title=f"{s.name}: one-step-ahead predictions on the test stretch "
                            f"(shaded; seed {race.seeds[0]}). Drag to zoom, double-click to reset.",
                      yaxis_title=s.unit or "value", height=450, margin={"l": 50, "r": 20, "t": 60, "b": 40},
                      xaxis={"range": [x[max(nt - data.n_test // 3, 0)], x[-1]]})
    return fig


def write_plots(race, out, plotlyjs="inline"):
    """predictions.png (matplotlib) and predictions.html (plotly) into folder `out`.
    plotlyjs='inline' embeds plotly.js (a self-contained file of about 5 MB that works offline);
    'cdn' links it from the plotly CDN (a small file that needs a network to view)."""
    import matplotlib.pyplot as plt

    out = pathlib.Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out}: {exc.strerror}") from None
    png, html = out / "predictions.png", out / "predictions.html"
    fig = plot_png(race, png)
    plt.close(fig)
    plot_plotly(race).write_html(html, include_plotlyjs=True if plotlyjs == "inline" else "cdn")
    return png, html
