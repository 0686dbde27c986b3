"""Chapter 12's drawing of the race: series -> windows -> models -> table of test errors.

`draw_race(data, names)` draws the pipeline the race runs, from the real data: the series with
its training part, validation stretch and test stretch shaded; one window of past changes and
the change it predicts; the models, each trained on the same windows; and the table the race
reports (test MSE, mean ± std over seeds).
"""
import numpy as np


def draw_race(data, rows, seeds=3, unit="ppm²", dpi=80):
    """data: a forecasting.ForecastData with a validation stretch (the race's); rows: (model
    name, mean, std of its test MSE over the seeds), in the race's order. Returns a matplotlib
    figure; each model's row in panel 3 lines up with its result in panel 4."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    fig = plt.figure(figsize=(12, 3.4), dpi=dpi)
    widths, lefts = (0.2, 0.2, 0.26, 0.16), (0.01, 0.255, 0.5, 0.81)
    boxes = [fig.add_axes([x, 0.14, wd, 0.68]) for x, wd in zip(lefts, widths)]
    names = [r[0] for r in rows]
    titles = ("1. the series", "2. windows", f"3. models ({seeds} seeds each)", "4. the table")
    for ax, title in zip(boxes, titles):
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_xticks([])
        ax.set_yticks([])

    # 1. the series, its three parts shaded
    v = data.series.values
    n, vs, ts = len(v), data.val_start, data.test_start
    ax = boxes[0]
    ax.plot(np.arange(n), v, color="black", lw=0.8)
    for lo, hi, c, label in ((0, vs, "tab:blue", "training"), (vs, ts, "tab:orange", "validation"),
                             (ts, n, "tab:red", "test")):
        ax.axvspan(lo, hi, color=c, alpha=0.15)
        ax.text((lo + hi) / 2, v.min(), label, ha="center", va="bottom", fontsize=7, color=c)
    ax.set_xlabel(f"{n} values of {data.series.name}", fontsize=8)

    # 2. one window of changes and its target
    ax = boxes[1]
    changes = np.diff(v[:data.window + 2])
    w = data.window
    ax.bar(np.arange(w), changes[:w], color="tab:blue", width=0.8)
    ax.bar([w + 0.5], [changes[w]], color="tab:red", width=0.8)
    ax.annotate("next\nchange", (w + 0.5, changes[w]), xytext=(w - 7, changes.max() * 1.3),
                fontsize=7, color="tab:red", arrowprops={"arrowstyle": "->", "color": "tab:red"})
    ax.set_xlabel(f"{w} past changes -> the next one", fontsize=8)
    ax.set_ylim(changes.min() * 1.3, changes.max() * 1.6)

    # 3. the models
    ax = boxes[2]
    ax.set_xlim(0, 1)
    ax.set_ylim(0, len(names))
    for i, name in enumerate(names):
        y = len(names) - i - 0.5
        ax.text(0.04, y, name, fontsize=7, va="center")
    ax.set_xlabel("same windows, same batches, same recipe", fontsize=8)

    # 4. the table
    ax = boxes[3]
    ax.set_xlim(0, 1)
    ax.set_ylim(0, len(names))
    for i, (_, m, s) in enumerate(rows):
        ax.text(0.08, len(names) - i - 0.5, f"{m:.3f} ± {s:.3f}", fontsize=7, va="center")
    ax.set_xlabel(f"test MSE ({unit}), mean ± std", fontsize=8)

    for k in range(3):
        a, b = boxes[k].get_position(), boxes[k + 1].get_position()
        fig.patches.append(FancyArrowPatch((a.x1 + 0.003, 0.47), (b.x0 - 0.003, 0.47),
                                           transform=fig.transFigure, arrowstyle="-|>",
                                           mutation_scale=18, color="0.3"))
    return fig
