"""Chapter 00: the environment check and the demonstration self-check."""
import numpy as np
import pytest

from lstm_lib.course import environment


def test_environment_report_lists_installed_versions():
    report = environment.check_environment()
    assert report.versions["numpy"] == np.__version__
    assert report.ok and report.missing == []
    text = str(report)
    assert "numpy" in text and np.__version__ in text and "widgets" in text
    assert report.colab is False  # the tests never run in Colab


@pytest.mark.parametrize("ipyw, front, colab, kernel, ok, word", [
    (None, None, False, True, False, "not installed"),
    ("7.5.1", "1.1.0", False, True, False, "too old"),
    ("8.1.5", "3.0.9", False, False, False, "kernel"),
    ("7.7.1", None, True, True, True, "Colab"),
    ("8.1.5", None, False, True, False, "jupyterlab_widgets"),
    ("8.1.5", "1.1.0", False, True, False, "3.x"),
    ("7.7.1", "1.1.7", False, True, True, "will work"),
    ("8.1.5", "3.0.9", False, True, True, "will work"),
])
def test_widget_support_says_why(ipyw, front, colab, kernel, ok, word):
    got, reason = environment.widget_support(ipyw, front, colab, kernel)
    assert got is ok
    assert word in reason


def test_report_not_ok_names_missing_package():
    report = environment.EnvironmentReport(python="3.11.0", versions={"numpy": "2.0", "matplotlib": None,
                                                                      "ipywidgets": "8.1"})
    assert not report.ok and report.missing == ["matplotlib"]
    assert "missing matplotlib" in str(report)
    assert not environment.EnvironmentReport(python="3.8.10", versions={}).python_ok


def test_demo_widget(monkeypatch, tiny_figure):
    import matplotlib.pyplot as plt

    fig = environment.plot_demo_sigmoid(2.0)
    assert fig.axes[0].lines[0].get_ydata()[-1] == pytest.approx(1 / (1 + np.exp(-12.0)))
    plt.close(fig)
    assert "0.881" in environment.summary_demo_sigmoid(2.0)
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(environment, "plot_demo_sigmoid", tiny_figure)
    box = environment.demo_widget()
    slope, readout = box.children[0].children[0], box.children[1]
    slope.value = 3.0
    assert "slope 3.0" in readout.value and slope.continuous_update is False


def test_demo_checker():
    check = environment.check_demo_mean.verdict
    assert check(lambda x, axis: x.sum(axis=axis) / x.shape[axis])[0]
    ok, msg = check(lambda x, axis: x.sum(axis=axis))
    assert not ok and "sum" in msg
    ok, msg = check(lambda x, axis: x.sum(axis=axis) / x.shape[1 - axis])
    assert not ok and "other axis" in msg
    ok, msg = check(lambda x, axis: x.mean(axis=1 - axis))
    assert not ok and "other axis" in msg
    ok, msg = check(lambda x, axis: 1 / 0)
    assert not ok and "ZeroDivisionError" in msg

    def stub(x, axis):
        raise NotImplementedError

    ok, msg = check(stub)
    assert not ok and "NotImplementedError" in msg
