"""The widgets as a learner meets them: a real JupyterLab in a real (headless) Chromium.

For every chapter with widgets: open it, run all cells, wait for the kernel, then for each
`.lstm-widget` press End (or Home) on its first slider and require that the readout text and
the figure image both change, with no error shown. One JupyterLab server (on a temporary copy
of the notebooks, so nothing is saved into the repository) and one browser serve all chapters.
Screenshots: one per notebook, in the folder printed by the tests (default
$TMPDIR/lstm-browser-screenshots, or $LSTM_BROWSER_SHOTS).

The planted-fault notebooks in tests/fixtures/ show that the check fails when a widget
callback raises, when a slider changes nothing, and when a cell raises.

Runs always when CI=true; elsewhere it is skipped when Chromium or Playwright is missing.
"""
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

import pytest
from browser import lab as B

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET_CHAPTERS = [p.stem for p in NOTEBOOKS if B.has_widgets(p)]
SHOTS = pathlib.Path(os.environ.get("LSTM_BROWSER_SHOTS",
                                    pathlib.Path(tempfile.gettempdir()) / "lstm-browser-screenshots"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def browser_or_skip():
    """The Chromium executable; in CI a missing browser is a failure, elsewhere a skip."""
    chromium = B.find_chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        message = f"no Chromium or Playwright for the browser tests: {B.INSTALL_HINT}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return chromium


def copy_tree(workdir):
    """The notebooks and the fixture notebooks, copied; data/ linked for relative paths."""
    root = workdir / "root"
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (root / "fixtures").mkdir()
    for nb in FIXTURES.glob("*.ipynb"):
        shutil.copy(nb, root / "fixtures" / nb.name)
    for name in ("data",):
        if (ROOT / name).exists():
            (root / name).symlink_to(ROOT / name)
    return root


@pytest.fixture(scope="module")
def browser_session(tmp_path_factory):
    chromium = browser_or_skip()
    from playwright.sync_api import sync_playwright

    workdir = tmp_path_factory.mktemp("jupyterlab")
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    print(f"\nbrowser tests: screenshots in {SHOTS}")
    lab = B.JupyterLab(copy_tree(workdir), workdir)
    lab.start()
    pw = browser = None
    try:
        pw = sync_playwright().start()
        browser = B.launch_chromium(pw, chromium)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(60_000)
        yield lab, context
    finally:
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()
        lab.stop()
        print(f"browser tests: screenshots in {SHOTS}")


def run_check(browser_session, relpath, **timeouts):
    lab, context = browser_session
    report = B.check_notebook(context, lab, relpath, SHOTS, **timeouts)
    print(f"{relpath}: {report.widgets} widgets, moved {report.moved}, {report.seconds:.1f} s, "
          f"screenshot {report.screenshot}")
    return report, lab


def failure_text(report, lab):
    return (f"{report.notebook}: the browser check found {len(report.problems)} problems:\n- "
            + "\n- ".join(report.problems)
            + f"\nscreenshot: {report.screenshot}\n{lab.log_tail()}")


@pytest.mark.parametrize("chapter", WIDGET_CHAPTERS)
def test_chapter_widgets_respond_in_the_browser(browser_session, chapter):
    report, lab = run_check(browser_session, f"notebooks/{chapter}.ipynb")
    assert not report.problems, failure_text(report, lab)
    assert report.widgets >= 1 and len(report.moved) == report.widgets
    assert pathlib.Path(report.screenshot).stat().st_size > 0


def test_check_passes_on_a_working_widget(browser_session):
    report, lab = run_check(browser_session, "fixtures/widget_ok.ipynb")
    assert not report.problems, failure_text(report, lab)
    [(_, _, before, after)] = report.moved
    assert before == "slope a = 1.0" and after in ("slope a = 2.0", "slope a = 0.0"), report.moved


def test_check_fails_when_the_figure_callback_raises(browser_session):
    report, _ = run_check(browser_session, "fixtures/widget_plot_raises.ipynb")
    text = "\n".join(report.problems)
    assert "shows an error" in text and "planted fault: the plot callback fails" in text, text
    assert "figure did not change" in text, text


def test_check_fails_when_the_readout_callback_raises(browser_session):
    """No cell shows it: the check sees that the slider changed nothing, and finds the
    traceback in JupyterLab's log console."""
    report, _ = run_check(browser_session, "fixtures/widget_summary_raises.ipynb", slider_timeout=15)
    text = "\n".join(report.problems)
    assert "readout did not change" in text and "figure did not change" in text, text
    assert "log console" in text and "planted fault: the readout callback fails" in text, text


def test_check_fails_when_a_cell_raises(browser_session):
    report, _ = run_check(browser_session, "fixtures/cell_raises.ipynb")
    text = "\n".join(report.problems)
    assert "raised in the browser" in text and "planted fault in a cell" in text, text


def test_server_stops_every_process_it_started(tmp_path):
    """A second server with a running kernel: after stop() none of its processes is alive, and
    nothing had to be killed by force."""
    browser_or_skip()
    root = tmp_path / "root"
    root.mkdir()
    lab = B.JupyterLab(root, tmp_path).start()
    try:
        lab.api("POST", "/api/kernels", {"name": "python3"})
        deadline = time.monotonic() + 60
        while not any("ipykernel" in B.cmdline(p) for p in B.descendants(lab.proc.pid)):
            assert time.monotonic() < deadline, "no kernel process\n" + lab.log_tail()
            time.sleep(0.5)
        lab.remember_processes()
        started = set(lab.started_pids)
    finally:
        forced = lab.stop()
    assert len(started) >= 2, f"expected the server and a kernel, saw {started}"
    assert [p for p in started if B.alive(p)] == []
    assert forced == [], f"had to kill {forced}"


def test_widget_chapters_are_found():
    """has_widgets, used to pick the chapters above, finds a widget cell in an unexecuted
    notebook and ignores a notebook without one."""
    assert B.has_widgets(FIXTURES / "widget_ok.ipynb")
    nb = json.loads((FIXTURES / "widget_ok.ipynb").read_text())
    nb["cells"] = nb["cells"][:2]
    plain = pathlib.Path(tempfile.mkdtemp()) / "plain.ipynb"
    plain.write_text(json.dumps(nb))
    try:
        assert not B.has_widgets(plain)
    finally:
        shutil.rmtree(plain.parent)


@pytest.mark.parametrize("ci", [True, False])
def test_missing_chromium_is_a_skip_outside_ci_and_a_failure_in_ci(monkeypatch, ci):
    monkeypatch.setattr(B, "find_chromium", lambda: None)
    monkeypatch.setattr(sys.modules[__name__], "IN_CI", ci)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match="apt-get install -y chromium"):
        browser_or_skip()
