"""The package as a learner installs it: every subpackage and data file is shipped,
requirements pin exact versions, and pyproject keeps loose lower bounds."""
import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_listed():
    found = {"lstm_lib." + ".".join(p.parent.relative_to(ROOT / "lstm_lib").parts)
             for p in (ROOT / "lstm_lib").rglob("__init__.py") if p.parent != ROOT / "lstm_lib"}
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert found | {"lstm_lib", "lstm_lib.data"} <= listed, f"add {found - listed} to pyproject.toml"


def test_bundled_data_loads_from_the_package():
    from lstm_lib.datasets import load_series
    from lstm_lib.series import BUNDLED
    for name in BUNDLED:
        labels, values = load_series(name)
        assert len(labels) == len(values) > 300


def test_requirements_pin_exact_versions_and_install_the_package():
    lines = [l.split("#")[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    lines = [l for l in lines if l]
    assert "-e ." in lines
    assert "torch==2.13.0" in lines
    for line in lines:
        if line != "-e .":
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+]*", line), line


def test_pyproject_keeps_loose_lower_bounds():
    deps = PYPROJECT["project"]["dependencies"]
    assert not any("==" in d or "<" in d for d in deps), deps
    assert any(d.startswith("ipywidgets>=7.6") for d in deps)
    assert not any(d.startswith("torch") for d in deps), "torch stays optional"


def test_torch_is_imported_lazily():
    import subprocess
    import sys
    code = "import sys, lstm_lib; lstm_lib.LSTM(2, 3); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_readme_maps_every_chapter_with_its_colab_link():
    from lstm_lib.course import CHAPTERS, colab_url
    readme = (ROOT / "README.md").read_text()
    for name, _ in CHAPTERS:
        assert colab_url(name) in readme, f"README lacks the Colab link of {name}"
        assert f"(notebooks/{name}.ipynb)" in readme
    on_disk = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk == {name for name, _ in CHAPTERS}, "notebooks/ and lstm_lib.course.CHAPTERS differ"


def python_floor_in_readme():
    found = re.findall(r"^Python (3\.\d+) or newer", (ROOT / "README.md").read_text(), flags=re.MULTILINE)
    assert len(found) == 1, f"the README should state one Python floor, found {found}"
    return found[0]


def test_readme_and_pyproject_name_the_same_python_floor():
    """The floor the README states is the one pyproject declares (and CI's `.ci/run` installs
    requirements.txt on exactly that Python: it refuses any other)."""
    assert PYPROJECT["project"]["requires-python"] == f">={python_floor_in_readme()}"
    assert 'FLOOR="' + python_floor_in_readme() + '"' in (ROOT / ".ci" / "run").read_text()


def test_readme_floor_check_notices_a_second_floor(monkeypatch):
    text = (ROOT / "README.md").read_text() + "\nPython 3.9 or newer.\n"
    monkeypatch.setattr(pathlib.Path, "read_text", lambda self, *a, **k: text)
    try:
        python_floor_in_readme()
    except AssertionError as exc:
        assert "one Python floor" in str(exc)
    else:
        raise AssertionError("two floors in the README went unnoticed")


def test_licence_covers_the_code_and_the_text():
    text = " ".join((ROOT / "LICENSE").read_text().split())
    assert "MIT License" in text and "CC BY 4.0" in text and "Python Software Foundation" in text


def test_the_readmes_cpu_torch_command_pins_the_torch_of_requirements():
    """The CPU-build command in the README asks for the torch that requirements.txt pins."""
    readme = (ROOT / "README.md").read_text()
    pinned = re.search(r"^torch==(\S+)$", (ROOT / "requirements.txt").read_text(), flags=re.MULTILINE)
    cpu = re.findall(r"pip install torch==(\S+) --index-url https://download\.pytorch\.org/whl/cpu", readme)
    assert pinned and cpu == [pinned.group(1)], (cpu, pinned)
