"""The Colab first cell (lstm_lib.course.COLAB_CELL): a no-op everywhere but Colab, and in
Colab a pip install of the package from the one place the repository URL is written."""
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


def test_cell_does_nothing_outside_colab(recorded_runs, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    run_cell()
    assert recorded_runs == []


def test_cell_installs_the_package_from_the_repo_url_in_colab(recorded_runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    run_cell()
    assert len(recorded_runs) == 1
    (cmd,), kwargs = recorded_runs[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[-1] == f"lstm_lib @ git+{course.REPO_URL}"
    assert kwargs.get("check") is True


def test_recorder_sees_a_call(recorded_runs):
    """The recorder itself works: a cell that does call subprocess.run is recorded (so an empty
    record above means the Colab cell really made no call)."""
    exec("import subprocess\nsubprocess.run(['true'])", {})  # noqa: S102
    assert len(recorded_runs) == 1


def test_cell_is_silent_in_a_fresh_interpreter():
    """Run as a real program outside Colab: no output, exit 0, and pip is never started."""
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
