"""Re-execute course notebooks top to bottom, store their outputs, and strip metadata.

    python tools/execute_notebooks.py notebooks/05_lstm_forward.ipynb [more.ipynb ...]
    python tools/execute_notebooks.py --all

Before running, it writes the standard first cell (lstm_lib.course.COLAB_CELL, which installs
the package where it is missing) as the first code cell, checks the badge, and folds every
check cell: a code cell tagged `check` gets its source collapsed in JupyterLab
(`jupyter.source_hidden`), in Colab (`cellView: form`) and in a book build (tag `hide-input`). It runs each notebook in its own folder with a fresh
python3 kernel, fails on any error, prints the time taken, and fails if a notebook takes
longer than its budget (--budget seconds, default 90). Afterwards it applies
`nbstripout --keep-output --keep-count` so only outputs and counts are stored.
"""
import argparse
import pathlib
import subprocess
import sys
import time

import nbformat
from nbclient import NotebookClient

from lstm_lib.course import COLAB_CELL, colab_url

ROOT = pathlib.Path(__file__).resolve().parent.parent


CHECK_TAG = "check"


def fold_check_cells(nb):
    """Collapse the source of every code cell tagged `check` (COURSE.md, rule 3)."""
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and CHECK_TAG in tags:
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            cell.metadata["cellView"] = "form"
            if "hide-input" not in tags:
                cell.metadata["tags"] = [*tags, "hide-input"]


def is_install_cell(cell):
    """The first cell as it is now, or an older version of it (which pip-installed from git)."""
    return cell.cell_type == "code" and (cell.source == COLAB_CELL or "lstm_lib @ " in cell.source)


def prepare(nb, name):
    """Put the install cell first among the code cells; check the badge; fold the check cells."""
    fold_check_cells(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and is_install_cell(code[0]):
        code[0].source = COLAB_CELL
    else:
        first_md = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
        nb.cells.insert(first_md + 1, nbformat.v4.new_code_cell(COLAB_CELL))
    head = "".join(c.source for c in nb.cells[:2] if c.cell_type == "markdown")
    if colab_url(name) not in head:
        raise SystemExit(f"{name}: the first markdown cell needs the badge "
                         f"lstm_lib.course.colab_badge({name!r})")


def execute(path, budget):
    nb = nbformat.read(path, as_version=4)
    prepare(nb, path.stem)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    took = time.perf_counter() - start
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    subprocess.run([sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count",
                    str(path)], check=True)
    print(f"{path.name}: executed in {took:.1f} s (budget {budget:.0f} s)")
    return took <= budget


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", type=pathlib.Path)
    ap.add_argument("--all", action="store_true", help="every notebook in notebooks/")
    ap.add_argument("--budget", type=float, default=90.0, help="seconds allowed per notebook")
    args = ap.parse_args()
    paths = sorted((ROOT / "notebooks").glob("*.ipynb")) if args.all else args.notebooks
    if not paths:
        ap.error("name notebooks to run, or --all")
    slow = [p.name for p in paths if not execute(p.resolve(), args.budget)]
    if slow:
        raise SystemExit(f"over budget: {', '.join(slow)}")


if __name__ == "__main__":
    main()
