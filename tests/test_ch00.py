"""Chapter 00: the environment check, the demonstration self-check and slider."""
import json
import pathlib
import re

import numpy as np
import pytest

from lstm_lib.course import environment
from lstm_lib.course.exercises import ch00
from lstm_lib.course.widgets import demo

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"


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

    fig = demo.plot_demo_sigmoid(2.0)
    assert fig.axes[0].lines[0].get_ydata()[-1] == pytest.approx(1 / (1 + np.exp(-12.0)))
    plt.close(fig)
    assert "0.881" in demo.summary_demo_sigmoid(2.0)
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(demo, "plot_demo_sigmoid", tiny_figure)
    box = demo.demo_widget()
    slope, readout = box.children[0].children[0], box.children[1]
    slope.value = 3.0
    assert "slope 3.0" in readout.value and slope.continuous_update is False


def test_demo_checker():
    check = ch00.check_demo_mean.verdict
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


# --- the parts that need torch or plotly: the list the check prints is the notebooks' truth ---

# a use: the module itself, a guard flag, or a library function that needs it
USE = {"torch": r"\btorch\b|\bHAVE_TORCH\b|\b(from_torch|to_torch|grads_from_torch|torch_step|torch_step_fn|"
                r"torch_model)\b",
       "plotly": r"\bplotly\b|\bHAVE_PLOTLY\b|\bplot_plotly\b"}


def sections_using(path, package):
    """Where a notebook uses `package`: "all" when a cell before the first section imports it
    unguarded (the chapter stops there without it), else the sections ("## N. ...") whose code
    uses it. Comments are ignored; library calls that need it count (from_torch, plot_plotly),
    names that merely contain the word do not (torch_layout_step)."""
    section, found = None, set()
    for cell in json.loads(path.read_text())["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            heading = re.search(r"^## (?:(\d+)\.\s*)?(.*)$", src, re.MULTILINE)
            if heading:
                section = heading.group(1) or heading.group(2).strip()
            continue
        code = "\n".join(line.split("#")[0] for line in src.splitlines())
        if section is None:
            guarded = re.search(r"except (ImportError|ModuleNotFoundError)", code)
            if re.search(rf"^\s*(import|from) {package}\b", code, re.MULTILINE) and not guarded:
                return "all"
        elif re.search(USE[package], code):
            found.add(section)
    return tuple(sorted(found))


@pytest.mark.parametrize("package", environment.OPTIONAL_PACKAGES)
def test_optional_parts_match_the_notebooks(package):
    listed = {chapter: sections for chapter, sections, pkg, _ in environment.OPTIONAL_PARTS
              if pkg == package}
    found = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        where = sections_using(path, package)
        if where:
            found[path.stem[:2]] = where
    assert found == {c: (s if s == "all" else tuple(sorted(s))) for c, s in listed.items()}, (
        f"environment.OPTIONAL_PARTS says {package} is needed in {listed}, the notebooks use it "
        f"in {found}: update the list (chapter 00's check prints it to learners)")


def test_sections_using_sees_guards_and_sections(tmp_path):
    def notebook(*cells):
        path = tmp_path / "nb.ipynb"
        path.write_text(json.dumps({"cells": [
            {"cell_type": kind, "source": [src]} for kind, src in cells]}))
        return path

    assert sections_using(notebook(("code", "import torch")), "torch") == "all"
    guarded = ("code", "try:\n    import torch\nexcept ImportError:\n    torch = None")
    assert sections_using(notebook(guarded, ("markdown", "## 1. A"), ("code", "x = 1")), "torch") == ()
    assert sections_using(notebook(guarded, ("markdown", "## 3. Parity"), ("code", "to_torch(layer)"),
                                   ("markdown", "## Exercises"), ("code", "torch.zeros(3)")),
                          "torch") == ("3", "Exercises")
    assert sections_using(notebook(("markdown", "## 1. A"), ("code", "# torch would be nice")),
                          "torch") == ()
    assert sections_using(notebook(("markdown", "## 2. B"), ("code", "check_torch_layout_step(step)"),
                                   ("markdown", "## 3. C"), ("code", "if HAVE_TORCH:\n    run()")),
                          "torch") == ("3",)


def test_report_names_what_cannot_run_without_torch():
    versions = {name: "1.0" for name in environment.REQUIRED + environment.OPTIONAL}
    full = environment.EnvironmentReport(python="3.11.0", versions=versions)
    assert full.cannot_run == [] and "every chapter will run" in str(full)
    no_torch = environment.EnvironmentReport(python="3.11.0", versions={**versions, "torch": None})
    assert no_torch.ok  # torch is optional
    text = str(no_torch)
    assert "every chapter" not in text and "ready, except" in text
    assert "chapter 05, section 5, needs torch" in text
    for chapter, _sections, pkg, what in environment.OPTIONAL_PARTS:
        assert (f"chapter {chapter}" in text and what in text) == (pkg == "torch")
    assert set(environment.USED_FOR) == set(environment.OPTIONAL)



def test_parts_on_required_alone(monkeypatch):
    parts = environment.parts_on_required_alone()
    assert "05 (all but section 5)" in parts and "02" in parts
    assert "12 (all but sections 1, 2, 4)" in parts  # torch in 1, 2, 4 and plotly in 2: listed once
    monkeypatch.setattr(environment, "OPTIONAL_PARTS", (("02", ("1", "3"), "torch", "x"),
                                                        ("02", ("10", "3"), "plotly", "x"),
                                                        ("03", "all", "torch", "y")))
    parts = environment.parts_on_required_alone()
    assert "02 (all but sections 1, 3, 10)" in parts and "03" not in parts and "12" in parts


def test_course_map_badges_only_what_each_chapter_builds():
    """The forward step carries badges 01-05 (each on a part its chapter builds); chapter 06,
    which builds no new part but runs the step backward over time, is badged on the unrolled
    backward panel only (issue 24 point 6: no 06 on the outputs h_t and c_t)."""
    import matplotlib.pyplot as plt

    from lstm_lib.course.course_map import draw_course_map

    fig = draw_course_map()
    try:
        top, bottom = fig.axes
        top_badges = {t.get_gid() for t in top.texts if (t.get_gid() or "").startswith("chapter:")}
        assert top_badges == {f"chapter:0{k}" for k in range(1, 6)}
        assert [t.get_gid() for t in bottom.texts if (t.get_gid() or "").startswith("chapter:")] == ["chapter:06"]
        assert any((p.get_gid() or "").startswith("edge:grad:dc_") for p in bottom.patches)  # drawn backward
        assert any("06  backward through time" in t.get_text() for t in top.texts)  # the legend still names it
    finally:
        plt.close(fig)
