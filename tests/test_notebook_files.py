"""Every course notebook, checked as a file (nothing is executed here; nbval runs them).

One test per notebook and check, so a failure names both. Each check is a plain function
returning a list of problems; the `test_planted_*` tests at the bottom feed every check a
notebook broken in exactly the way it guards against, and assert that it notices.
"""
import functools
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest

from lstm_lib.course import CHAPTERS, COLAB_CELL, colab_badge, colab_url

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_BYTES = 1_500_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BADGE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                   r"\((?P<url>[^)\s]+)\)")


def load(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.get("cells", [])) if c.get("cell_type") == "code"]


# ---------------------------------------------------------------- the checks, one concern each

def check_json(path):
    """Parses as JSON and validates against the nbformat 4 schema."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [f"not valid JSON: {exc}"]
    try:
        nbformat.validate(nbformat.reads(text, as_version=nbformat.NO_CONVERT))
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds
        return [f"not a valid nbformat 4 notebook: {str(exc).splitlines()[0]}"]
    return []


def check_counts(path):
    """Code cells executed top to bottom: the non-empty ones have counts 1..N, in order."""
    cells = [(i, c) for i, c in code_cells(load(path)) if source(c).strip()]
    if cells and all(c.get("execution_count") is None for _, c in cells):
        return ["the notebook is not executed: run tools/execute_notebooks.py on it"]
    problems, expected = [], 1
    for i, cell in code_cells(load(path)):
        count = cell.get("execution_count")
        if not source(cell).strip():
            if count is not None or cell.get("outputs"):
                problems.append(f"cell {i} is empty but has a count or outputs")
            continue
        if count != expected:
            problems.append(f"cell {i} has execution count {count}, expected {expected}: "
                            "re-run the notebook top to bottom (tools/execute_notebooks.py)")
            if count is None:
                continue
            expected = count
        expected += 1
    return problems


def check_no_errors_or_stderr(path):
    problems = []
    for i, cell in code_cells(load(path)):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} stored an error: {out.get('ename')}: {out.get('evalue', '')[:100]}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", ""))[:100].replace("\n", " ")
                problems.append(f"cell {i} wrote to stderr: {text}")
    return problems


def check_kernelspec(path):
    name = load(path).get("metadata", {}).get("kernelspec", {}).get("name")
    return [] if name == "python3" else [f"kernelspec name is {name!r}, expected 'python3'"]


def check_no_widget_state(path):
    nb = load(path)
    problems = []
    if "widgets" in nb.get("metadata", {}):
        problems.append("stored widget state in the notebook metadata "
                        "(strip it: nbstripout --keep-output --keep-count)")
    for i, cell in code_cells(nb):
        if "widgets" in cell.get("metadata", {}):
            problems.append(f"cell {i} stores widget state in its metadata")
    return problems


def check_size(path):
    size = pathlib.Path(path).stat().st_size
    if size < MAX_BYTES:
        return []
    return [(f"{size / 1e6:.2f} MB, over {MAX_BYTES / 1e6:.1f} MB "
             "(plotly 'notebook' renderer, big or many images?)")]


def check_badge(path):
    """The first cell is markdown starting with the Colab badge, whose URL is colab_url(name)."""
    name = pathlib.Path(path).stem
    cells = load(path).get("cells", [])
    if not cells or cells[0].get("cell_type") != "markdown":
        return ["the first cell is not markdown with the Open-in-Colab badge"]
    text = source(cells[0])
    match = BADGE.match(text.lstrip())
    if not match:
        return [f"the first markdown cell does not start with the badge: use lstm_lib.course.colab_badge({name!r})"]
    if match.group("url") != colab_url(name):
        return [f"badge URL {match.group('url')} is not colab_url({name!r}) = {colab_url(name)}"]
    if not text.lstrip().startswith(colab_badge(name)):
        return [f"badge markdown differs from lstm_lib.course.colab_badge({name!r})"]
    return []


def check_colab_cell(path):
    cells = code_cells(load(path))
    if not cells:
        return ["no code cell: the first one must be lstm_lib.course.COLAB_CELL"]
    i, first = cells[0]
    if source(first) != COLAB_CELL:
        return [(f"the first code cell (cell {i}) is not exactly lstm_lib.course.COLAB_CELL "
                 "(tools/execute_notebooks.py writes it)")]
    return []


def check_folded_checks(path):
    """Every code cell tagged `check` is folded for JupyterLab, Colab and a book build (COURSE.md,
    rule 3; tools/execute_notebooks.py folds them) and prints at most one line."""
    problems = []
    for i, cell in code_cells(load(path)):
        meta = cell.get("metadata", {})
        if "check" not in meta.get("tags", []):
            continue
        if not meta.get("jupyter", {}).get("source_hidden"):
            problems.append(f"check cell {i} is not collapsed (jupyter.source_hidden): run tools/execute_notebooks.py")
        if meta.get("cellView") != "form":
            problems.append(f"check cell {i} has no cellView 'form' (folded in Colab)")
        if "hide-input" not in meta.get("tags", []):
            problems.append(f"check cell {i} lacks the tag hide-input (folded in the book)")
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if len(text.strip().splitlines()) > 1:
            problems.append(f"check cell {i} prints {len(text.strip().splitlines())} lines; a check says one")
    return problems


def check_name(path):
    names = [n for n, _ in CHAPTERS]
    stem = pathlib.Path(path).stem
    return [] if stem in names else [f"{stem!r} is not a chapter name in lstm_lib.course.CHAPTERS"]


IN_CI = os.environ.get("CI", "").lower() == "true"


def has_nbstripout():
    return importlib.util.find_spec("nbstripout") is not None


def nbstripout_or_skip():
    """nbstripout is a development requirement (requirements.txt): in CI a missing one is a
    failure, elsewhere a skip (e.g. in an environment with only the course's packages)."""
    if not has_nbstripout():
        message = "nbstripout is not installed: pip install -r requirements.txt"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def nbstripout_unclean(paths):
    """Names of the notebooks that `nbstripout --verify --keep-output --keep-count` would change
    (one run for all of them: the tool takes seconds to start)."""
    done = subprocess.run([sys.executable, "-m", "nbstripout", "--verify", "--keep-output",
                           "--keep-count", *map(str, paths)], capture_output=True, text=True, timeout=300, check=False)
    if done.returncode == 0:
        return {}
    found = {m.strip(): "would be changed by it" for m in re.findall(r"would have stripped (.+)", done.stdout)}
    return found or {str(p): (done.stdout + done.stderr).strip()[:300] for p in paths}


@functools.cache
def repo_unclean():
    return nbstripout_unclean(NOTEBOOKS) if NOTEBOOKS else {}


def check_nbstripout(path, unclean=None):
    unclean = nbstripout_unclean([path]) if unclean is None else unclean
    why = unclean.get(str(path))
    return [f"not nbstripout-clean ({why}): run nbstripout --keep-output --keep-count on it"] if why else []


def ruff_problems(paths):
    """`ruff check` on the given paths with the project's configuration; one line per finding."""
    done = subprocess.run(["ruff", "check", "--no-cache", "--output-format", "concise",
                           *map(str, paths)], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    if done.returncode == 0:
        return []
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    return lines or [f"ruff exited with {done.returncode}"]


FILE_CHECKS = {
    "json": check_json,
    "counts": check_counts,
    "errors": check_no_errors_or_stderr,
    "kernelspec": check_kernelspec,
    "widget_state": check_no_widget_state,
    "size": check_size,
    "badge": check_badge,
    "colab_cell": check_colab_cell,
    "name": check_name,
    "folded_checks": check_folded_checks,
    "nbstripout": check_nbstripout,
}


# ---------------------------------------------------------------- the course notebooks

@pytest.mark.parametrize("check", FILE_CHECKS, ids=str)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook(path, check):
    if check != "json" and check_json(path):
        pytest.fail(f"{path.name}: {check_json(path)}")
    if check == "nbstripout":
        nbstripout_or_skip()
        problems = check_nbstripout(path, repo_unclean())
    else:
        problems = FILE_CHECKS[check](path)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_ruff_clean_on_notebooks_package_experiments_and_tests():
    targets = [p for p in (ROOT / "lstm_lib", ROOT / "experiments", ROOT / "tests", ROOT / "tools",
                           *NOTEBOOKS) if p.exists()]
    problems = ruff_problems(targets)
    assert not problems, "ruff check:\n" + "\n".join(problems[:60])


# ---------------------------------------------------------------- each check on a planted fault

def good_notebook(folder, name="05_lstm_forward"):
    """A small notebook that follows every convention, stored as the execute tool leaves it."""
    path = pathlib.Path(folder) / f"{name}.ipynb"
    path.write_text(_good_notebook_text(name), encoding="utf-8")
    return path


@functools.cache
def _good_notebook_text(name):
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    setup = v4.new_code_cell("import numpy as np\n\nx = np.arange(3)\nprint(x.sum())", execution_count=2)
    setup.outputs = [v4.new_output("stream", name="stdout", text="3\n")]
    shape = v4.new_code_cell("x.shape", execution_count=3)
    shape.outputs = [v4.new_output("execute_result", data={"text/plain": "(3,)"}, execution_count=3)]
    nb.cells = [
        v4.new_markdown_cell(f"{colab_badge(name)}\n\n# A chapter\n\nA goal."),
        v4.new_code_cell(COLAB_CELL, execution_count=1),
        setup,
        v4.new_markdown_cell("Some prose."),
        shape,
        v4.new_code_cell(""),
    ]
    for i, cell in enumerate(nb.cells):
        cell.id = str(i)  # what nbstripout (without --keep-id) leaves
    return nbformat.writes(nb) + "\n"


def edit(path, change):
    nb = load(path)
    change(nb)
    pathlib.Path(path).write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def good(tmp_path):
    return good_notebook(tmp_path)


def test_good_notebook_passes_every_check(good):
    """The base of every planted fault passes every check (nbstripout: in the test below)."""
    checks = {k: f for k, f in FILE_CHECKS.items() if k != "nbstripout"}
    assert {k: f(good) for k, f in checks.items()} == {k: [] for k in checks}
    assert ruff_problems([good]) == []


def setcount(i, n):
    def change(nb):
        nb["cells"][i]["execution_count"] = n
        for out in nb["cells"][i].get("outputs", []):
            if "execution_count" in out:
                out["execution_count"] = n
    return change


def add_output(i, output):
    return lambda nb: nb["cells"][i]["outputs"].append(output)


ERROR_OUTPUT = {"output_type": "error", "ename": "ValueError", "evalue": "shapes (3, 4) and (5,)",
                "traceback": ["ValueError: shapes (3, 4) and (5,)"]}
STDERR_OUTPUT = {"output_type": "stream", "name": "stderr", "text": "UserWarning: careful\n"}
WIDGET_STATE = {"application/vnd.jupyter.widget-state+json": {
    "state": {}, "version_major": 2, "version_minor": 0}}

PLANTED = {
    # name: (check, how the file is broken, words the problem must contain)
    "not_json": ("json", lambda p: p.write_text('{"cells": [', encoding="utf-8"), "not valid JSON"),
    "bad_schema": ("json", lambda p: edit(p, lambda nb: nb.pop("nbformat")), "not a valid nbformat"),
    "count_out_of_order": ("counts", lambda p: edit(p, setcount(4, 7)), "execution count 7, expected 3"),
    "counts_swapped": ("counts", lambda p: (edit(p, setcount(2, 3)), edit(p, setcount(4, 2))),
                       "execution count 3, expected 2"),
    "cell_not_run": ("counts", lambda p: edit(p, setcount(4, None)), "execution count None"),
    "not_executed": ("counts", lambda p: (edit(p, setcount(1, None)), edit(p, setcount(2, None)),
                                          edit(p, setcount(4, None))), "not executed"),
    "stored_error": ("errors", lambda p: edit(p, add_output(4, ERROR_OUTPUT)), "stored an error: ValueError"),
    "stderr": ("errors", lambda p: edit(p, add_output(2, STDERR_OUTPUT)), "wrote to stderr"),
    "kernelspec": ("kernelspec", lambda p: edit(p, lambda nb: nb["metadata"]["kernelspec"].update(
        name="conda-env-lstm-py")), "'conda-env-lstm-py'"),
    "widget_state": ("widget_state", lambda p: edit(p, lambda nb: nb["metadata"].update(widgets=WIDGET_STATE)),
                     "stored widget state"),
    "too_big": ("size", lambda p: edit(p, add_output(4, {
        "output_type": "display_data", "metadata": {},
        "data": {"image/png": "iVBORw0KGgo" * 160_000, "text/plain": "<Figure>"}})), "over 1.5 MB"),
    "no_badge": ("badge", lambda p: edit(p, lambda nb: nb["cells"][0].update(source="# A chapter")),
                 "does not start with the badge"),
    "wrong_badge_url": ("badge", lambda p: edit(p, lambda nb: nb["cells"][0].update(
        source=colab_badge("06_bptt") + "\n\n# A chapter")), "is not colab_url('05_lstm_forward')"),
    "badge_not_first": ("badge", lambda p: edit(p, lambda nb: nb["cells"].insert(
        0, nbformat.v4.new_markdown_cell("# Title first"))), "does not start with the badge"),
    "colab_cell_edited": ("colab_cell", lambda p: edit(p, lambda nb: nb["cells"][1].update(
        source=COLAB_CELL.replace("lstm-from-scratch/lstm-from-scratch", "someone/fork"))),
        "not exactly lstm_lib.course.COLAB_CELL"),
    "colab_cell_missing": ("colab_cell", lambda p: edit(p, lambda nb: nb["cells"].pop(1)),
                           "not exactly lstm_lib.course.COLAB_CELL"),
    "check_not_folded": ("folded_checks", lambda p: edit(p, lambda nb: nb["cells"][2]["metadata"].update(
        tags=["check"])), "is not collapsed"),
    "check_not_folded_in_colab": ("folded_checks", lambda p: edit(p, lambda nb: nb["cells"][2]["metadata"].update(
        tags=["check", "hide-input"], jupyter={"source_hidden": True})), "no cellView"),
    "check_prints_a_page": ("folded_checks", lambda p: edit(p, lambda nb: (nb["cells"][2]["metadata"].update(
        tags=["check", "hide-input"], jupyter={"source_hidden": True}, cellView="form"),
        nb["cells"][2]["outputs"].append({"output_type": "stream", "name": "stdout", "text": "a\nb\n"}))),
        "prints 3 lines"),
}


@pytest.mark.parametrize("fault", PLANTED)
def test_planted_fault_is_caught(good, fault):
    check, plant, words = PLANTED[fault]
    assert FILE_CHECKS[check](good) == []  # nbstripout faults: tested together, below
    plant(good)
    problems = FILE_CHECKS[check](good)
    assert any(words in p for p in problems), f"{check} missed the planted {fault}: {problems}"


STRIPOUT_FAULTS = {
    "execution_metadata": lambda nb: nb["cells"][2]["metadata"].update(
        execution={"iopub.status.busy": "2026-01-01T00:00:00.000Z"}),
    "collapsed": lambda nb: nb["cells"][4]["metadata"].update(collapsed=True),
    "random_cell_id": lambda nb: nb["cells"][4].update(id="3f9c2a7e-1b2d"),
    "execute_time": lambda nb: nb["cells"][1]["metadata"].update(ExecuteTime={"end_time": "2026-01-01"}),
    "widget_state": lambda nb: nb["metadata"].update(widgets=WIDGET_STATE),
}


def test_planted_nbstripout_faults_are_caught(tmp_path):
    """One nbstripout run over a clean notebook and one copy per planted fault: exactly the
    planted ones are reported."""
    nbstripout_or_skip()
    clean = good_notebook(tmp_path)
    planted = {}
    for fault, change in STRIPOUT_FAULTS.items():
        (tmp_path / fault).mkdir()
        planted[fault] = edit(good_notebook(tmp_path / fault), change)
    unclean = nbstripout_unclean([clean, *planted.values()])
    assert check_nbstripout(clean, unclean) == []
    for fault, path in planted.items():
        assert any("not nbstripout-clean" in p for p in check_nbstripout(path, unclean)), fault


@pytest.mark.parametrize("ci", [False, True], ids=["local", "ci"])
def test_missing_nbstripout_is_a_skip_outside_ci_and_a_failure_in_ci(monkeypatch, ci):
    monkeypatch.setattr(sys.modules[__name__], "IN_CI", ci)
    monkeypatch.setattr(sys.modules[__name__], "has_nbstripout", lambda: False)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match="nbstripout is not installed"):
        nbstripout_or_skip()


def test_planted_name_fault_is_caught(good):
    path = good.rename(good.with_name("05_lstm_fwd.ipynb"))
    assert any("not a chapter name" in p for p in check_name(path))


def test_planted_ruff_fault_is_caught(good):
    edit(good, lambda nb: nb["cells"][2].update(source="import os\nimport numpy as np\n\nx = np.arange(3)"))
    problems = ruff_problems([good])
    assert any("F401" in p and "os" in p for p in problems), problems


def test_widget_views_without_state_are_allowed(good):
    """A widget's output (its view, not its state) is fine to store: it is how nbval skips it."""
    edit(good, add_output(4, {"output_type": "display_data", "metadata": {}, "data": {
        WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox()"}}))
    assert check_no_widget_state(good) == []
