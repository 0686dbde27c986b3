"""The lint rules chosen in pyproject.toml are the ones ruff applies: a planted finding of each
chosen family is reported, an ignored rule (with its reason in pyproject.toml) is not. The
whole tree is checked by tests/test_notebook_files.py."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")


def findings(code, name="lstm_lib/planted.py"):
    """The rule codes ruff reports for `code`, as if it were the file `name` of this project."""
    done = subprocess.run(["ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                           "--output-format", "concise", "--stdin-filename", name, "-"],
                          input=code, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    return {word for line in done.stdout.splitlines() for word in line.split()[1:2]}


PLANTS = {  # rule -> a small file with one finding of it
    "F401": "import os\n",
    "E711": "x = None\nprint(x == None)\n",
    "B006": "def f(a=[]):\n    return a\n",
    "I001": "import sys\nimport os\n\nprint(os, sys)\n",
    "UP006": "from typing import List\n\n\ndef f(a: List[int]):\n    return a\n",
    "SIM102": "def f(a, b):\n    if a:\n        if b:\n            return 1\n",
    "W291": "x = 1 \n",
}


@pytest.mark.parametrize("rule", PLANTS)
def test_each_chosen_rule_family_reports_its_plant(rule):
    assert rule in findings(PLANTS[rule]), rule


@pytest.mark.parametrize("rule, code", [
    ("E741", "l = 1\nprint(l)\n"),
    ("B905", "print(list(zip([1], [2])))\n"),
    ("SIM300", "def f(x, I):\n    return 3 != I\n"),
])
def test_an_ignored_rule_is_not_reported(rule, code):
    assert rule not in findings(code)


def test_per_file_ignores_hold_only_where_given():
    chain = "def f(g):\n    try:\n        g()\n    except ValueError:\n        raise RuntimeError('x')\n"
    assert "B904" in findings(chain, "lstm_lib/planted.py")
    assert "B904" not in findings(chain, "lstm_lib/course/exercises/ch99.py")
