"""show_figure stores a figure's alt text where the book reads it (the output's metadata)."""
from unittest import mock

import IPython.display
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from lstm_lib.course.widgets import show_figure


def test_alt_text_goes_into_the_png_metadata_and_the_figure_is_closed():
    fig = plt.figure()
    with mock.patch.object(IPython.display, "display") as display:
        show_figure(fig, alt="a rising line")
    display.assert_called_once_with(fig, metadata={"image/png": {"alt": "a rising line"}})
    assert not plt.fignum_exists(fig.number)


def test_without_alt_no_metadata():
    fig = plt.figure()
    with mock.patch.object(IPython.display, "display") as display:
        show_figure(fig)
    display.assert_called_once_with(fig, metadata=None)
