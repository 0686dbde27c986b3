"""Interactive figures for the chapters.

Each topic module has plain functions that compute what a widget shows (tested without a
browser) and draw it with matplotlib (also used for the static figure above each widget),
and a `*_widget()` function that wires sliders to them through `interact` below.
"""


def slider(description, min, max, step, value, integer=False, fmt=None):
    """A slider that recomputes only when released (continuous_update=False)."""
    import ipywidgets as w

    cls = w.IntSlider if integer else w.FloatSlider
    kwargs = {"description": description, "min": min, "max": max, "step": step, "value": value,
                  "continuous_update": False, "style": {"description_width": "initial"}}
    if fmt:
        kwargs["readout_format"] = fmt
    return cls(**kwargs)


def show_figure(fig, alt=None):
    """Display a matplotlib figure once (as a PNG) and close it, so it is not drawn twice.

    `alt`: one sentence saying what the figure shows; stored in the output's metadata, where
    the book (tools/build_book.py) takes it as the image's alt text. nbval ignores it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig, metadata={"image/png": {"alt": alt}} if alt else None)
    plt.close(fig)


def interact(plot, summary, **controls):
    """A widget: `controls` (name -> ipywidget) above a text readout and a figure.

    On every change, `summary(**values)` gives the readout's HTML text and `plot(**values)`
    returns the matplotlib figure to show. The readout has the CSS class 'lstm-readout' and
    the whole box 'lstm-widget' (the browser tests look for them). Works on ipywidgets 7.7
    and 8.
    """
    import ipywidgets as w

    out = w.Output()
    readout = w.HTML()
    readout.add_class("lstm-readout")

    def update(change=None):
        values = {k: c.value for k, c in controls.items()}
        readout.value = summary(**values)
        with out:
            out.clear_output(wait=True)
            show_figure(plot(**values))

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = w.VBox([w.VBox(list(controls.values())), readout, out])
    box.add_class("lstm-widget")
    return box
