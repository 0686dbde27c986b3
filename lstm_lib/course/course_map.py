"""Chapter 00's course map: one LSTM step with a badge on each part at the chapter that builds
it (01-05), and below it the step unrolled over three steps with the gradients flowing back,
which is what chapter 06 builds.

    from lstm_lib.course.course_map import draw_course_map
    draw_course_map()   # returns the Figure; badges carry gids "chapter:NN"

The forward drawing has no part that chapter 06 builds (06 runs the same step backward, over
the whole sequence), so `diagram.draw_cell(chapters=True)` badges 01-05 only, and 06's badge
sits on the backward panel here.
"""
import matplotlib.pyplot as plt

from .diagram import draw_cell, draw_unrolled

BADGE = {"boxstyle": "round,pad=0.25", "facecolor": "#fff1a8", "edgecolor": "#b8a040"}


def draw_course_map():
    """The course map of chapter 00 (see the module docstring). Returns the Figure."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.6, 9.6), dpi=90, height_ratios=[5.2, 3.6])
    draw_cell(chapters=True, ax=top)
    draw_unrolled(steps=3, backward=True, ax=bottom,
                  title="06: the same step over time, backward: the gradients (red) flow from later steps to earlier ones")
    bottom.title.set_fontsize(9.5)
    x0 = bottom.get_xlim()[0]
    y1 = bottom.get_ylim()[1]
    bottom.text(x0 + 0.3, y1 - 0.25, "06", fontsize=7.5, ha="center", va="center", zorder=9, color="#222222",
                gid="chapter:06", bbox=BADGE)
    fig.tight_layout()
    return fig
