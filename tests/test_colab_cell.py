"""The first cell of every notebook (lstm_lib.course.COLAB_CELL): silent where lstm_lib can be
imported; where it cannot (Colab, Kaggle, Studio Lab, a bare Jupyter), a pip install of the
package from the one place the repository URL is written, said in the output."""
import pathlib
import subprocess
import sys
import types

import pytest

from lstm_lib import course

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def recorded_runs(monkeypatch):
    """Replace subprocess.run by a recorder, so the cell can be run without installing anything."""
    calls = []

    def fake_run(*args, **kwargs):
        calls.append((args, kwargs))
        return subprocess.CompletedProcess(args[0] if args else kwargs.get("args"), 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    return calls


def run_cell():
    exec(compile(course.COLAB_CELL, "<colab cell>", "exec"), {"__name__": "__main__"})  # noqa: S102


@pytest.fixture
def missing(monkeypatch):
    """Make importlib.util.find_spec report the named modules as not installed."""
    import importlib.util
    real = importlib.util.find_spec
    gone = set()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in gone else real(name, *a))
    return gone


def test_cell_does_nothing_where_the_package_is_installed(recorded_runs, capsys):
    run_cell()
    assert recorded_runs == []
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("host", ["google.colab", "kaggle_secrets", None])
def test_cell_installs_the_package_wherever_it_is_missing(recorded_runs, missing, monkeypatch, capsys, host):
    """Colab, Kaggle or a bare Jupyter: the same rule, no host detection."""
    if host:
        monkeypatch.setitem(sys.modules, host, types.ModuleType(host))
    missing.add("lstm_lib")
    run_cell()
    assert len(recorded_runs) == 1
    (cmd,), kwargs = recorded_runs[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[-1] == f"lstm_lib @ git+{course.REPO_URL}"
    assert kwargs.get("check") is True
    out = capsys.readouterr().out
    assert "installing it with pip" in out and "installed lstm_lib" in out


def test_cell_without_pip_says_so_and_runs_nothing(recorded_runs, missing, capsys):
    missing.update({"lstm_lib", "pip"})
    run_cell()
    assert recorded_runs == []
    assert "no pip" in capsys.readouterr().out


def test_recorder_sees_a_call(recorded_runs):
    """The recorder itself works: a cell that does call subprocess.run is recorded (so an empty
    record above means the Colab cell really made no call)."""
    exec("import subprocess\nsubprocess.run(['true'])", {})  # noqa: S102
    assert len(recorded_runs) == 1


def test_cell_is_silent_in_a_fresh_interpreter():
    """Run as a real program where lstm_lib is installed: no output, exit 0, pip never started."""
    code = ("import subprocess, sys\n"
            "def boom(*a, **k):\n    raise SystemExit('subprocess.run was called')\n"
            "subprocess.run = boom\n" + course.COLAB_CELL)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_repo_url_is_written_only_in_the_course_package_init():
    """The package and the tools take the URL from lstm_lib.course; nothing else spells it out."""
    owner_repo = course.REPO_URL.removeprefix("https://github.com/")
    files = [p for d in ("lstm_lib", "tools") for p in (ROOT / d).rglob("*.py")]
    spelled = [str(p.relative_to(ROOT)) for p in files
               if p.relative_to(ROOT).as_posix() != "lstm_lib/course/__init__.py" and owner_repo in p.read_text(encoding="utf-8")]
    assert spelled == [], f"repository URL written outside lstm_lib/course/__init__.py: {spelled}"


def test_badge_and_cell_use_the_repo_url():
    assert course.REPO_URL in course.COLAB_CELL
    owner_repo = course.REPO_URL.removeprefix("https://github.com/")
    for name, _title in course.CHAPTERS:
        assert f"/github/{owner_repo}/blob/" in course.colab_url(name)
        assert course.colab_url(name).endswith(f"/notebooks/{name}.ipynb")
        assert f"({course.colab_url(name)})" in course.colab_badge(name)


def test_colab_version_check_catches_a_replaced_pin():
    """The Colab job's version check (in .ci/colab_check.sh), fed made-up pip output in which
    the install would replace numpy and has replaced matplotlib, reports both (its self-test)."""
    done = subprocess.run(["bash", str(ROOT / ".ci" / "colab_check.sh"), "--self-test"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "caught a report installing numpy 2.4.6" in done.stdout
    assert "replaced matplotlib 3.10.9 by 3.11.2" in done.stdout
