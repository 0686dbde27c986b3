"""The folded solutions of a chapter, read from its notebook, so that a test can hold each one
against its checker (a solution that stopped passing is a bug in the chapter)."""
import json
import pathlib
import re

FOLD = re.compile(r"<details>\s*<summary>Solution[^<]*</summary>(.*?)</details>", re.DOTALL)
CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def folded_solutions(notebook):
    """The Python code blocks inside the notebook's "Solution" folds, in order."""
    cells = json.loads(pathlib.Path(notebook).read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return [code for fold in FOLD.findall(text) for code in CODE.findall(fold)]


def run_solutions(notebook, **context):
    """Execute the folded solutions in one namespace (numpy as np, lstm_lib as L, and
    `context`) and return that namespace."""
    import numpy as np

    import lstm_lib as L

    namespace = {"np": np, "L": L, **context}
    for code in folded_solutions(notebook):
        exec(code, namespace)  # noqa: S102 - the course's own notebook text
    return namespace


def failing_solutions(notebook, checks, **context):
    """[(name, message)] for each (name, checker) in `checks` whose folded solution, run by
    run_solutions, the checker does not accept (empty when all pass)."""
    namespace = run_solutions(notebook, **context)
    verdicts = [(name, checker.verdict(namespace[name])) for name, checker in checks]
    return [(name, message) for name, (ok, message) in verdicts if not ok]
