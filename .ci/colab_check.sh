#!/usr/bin/env bash
# Colab compatibility job.
#
#   bash .ci/colab_check.sh              the whole job (about 5-15 min, most of it the notebooks)
#   bash .ci/colab_check.sh --self-test  only shows, on made-up pip output, that the version check
#                                        catches a replaced pin (seconds; run by the pytest suite)
#
# 1. A fresh virtual environment with Colab's versions of the packages the course touches
#    (its last published list: ipywidgets 7.7.1 + widgetsnbextension 3.6.10, plotly 5.24.1,
#    matplotlib 3.10, numpy 2.1.3; torch pinned as here) plus what the checks need.
# 2. The package installed the way the Colab first cell does (pip install of the repository,
#    i.e. from pyproject.toml, not requirements.txt). First `pip install --dry-run --report`:
#    if it would install any pinned package, the job fails naming it. Then the real install,
#    and `pip freeze` before/after must agree on every pinned package.
# 3. A planted fault, with real pip: the same check fed a requirement that would replace a
#    pin (ipywidgets>=8) must report it.
# 4. The library tests (no nbval, no browser, no notebook-file checks) against the installed
#    package, and every notebook validated with nbval in that venv: re-executed top to bottom
#    with Colab's versions and its outputs compared with the stored ones, as `pytest` does.
#
# Python: Colab's, 3.12 (python3.12 on PATH or pyenv's 3.12); COLAB_PYTHON=/path/to/python runs
# the job with another interpreter (e.g. 3.13). The notebook kernels get one BLAS thread each,
# as in the README's command (tests/conftest.py), since COLAB_JOBS of them run side by side.
#
# Environment: COLAB_VENV (default: a new temporary folder, removed at the end);
# COLAB_REUSE_VENV=1 keeps an existing COLAB_VENV instead of building it anew (for trying the
# job locally; its pins are still checked); COLAB_JOBS (notebooks executed at once, default 2).
# pip uses its usual cache (~/.cache/pip).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=python3  # runs the version check's helper script; the venv is built with COLAB_PY below

find_colab_python() {  # Colab's Python: 3.12
  local c
  for c in python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python /usr/local/bin/python3.12; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
      echo "$c"; return 0
    fi
  done
  return 1
}

PINS=(
  "ipywidgets==7.7.1"
  "widgetsnbextension==3.6.10"
  "plotly==5.24.1"
  "matplotlib==3.10.*"
  "numpy==2.1.3"
  "torch==2.13.0"
)
# What the checks themselves need (versions as in requirements.txt).
TOOLS=("pytest==9.0.3" "pytest-xdist==3.8.0" "nbval==0.11.0" "nbclient==0.11.0" "nbformat==5.11.1"
       "ipykernel==7.4.0")

WORK=$(mktemp -d)
CHECK=$WORK/pin_check.py
cleanup() {
  local t=$SECONDS
  rm -rf "$WORK"
  [[ "${1:-}" == quiet ]] || echo "== colab: removed the temporary venv and files in $((SECONDS - t)) s"
}
trap cleanup EXIT

# --- the version check: pins file + a pip report or two freezes -> one line per replaced pin ---
cat > "$CHECK" <<'PYEOF'
"""Would installing replace a pinned package?

    pin_check.py report PINS REPORT.json     (a `pip install --dry-run --report` file)
    pin_check.py freeze PINS BEFORE AFTER    (two `pip freeze` outputs)

Prints one line per pinned package the install would change (or changed) and exits 1 if any.
"""
import json
import re
import sys


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path):
    out = {}
    for line in open(path):
        line = line.split("#")[0].strip()
        if line:
            name, spec = re.split(r"(?===)", line, maxsplit=1)
            out[norm(name)] = spec[2:]
    return out


def matches(version, spec):
    version = version.split("+")[0]
    if spec.endswith(".*"):
        return version == spec[:-2] or version.startswith(spec[:-1])
    return version == spec


def freeze(path):
    out = {}
    for line in open(path):
        if "==" in line and not line.startswith("#"):
            name, version = line.strip().split("==", 1)
            out[norm(name)] = version
    return out


def from_report(pinned, path):
    report = json.load(open(path))
    problems = []
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        name, version = norm(meta.get("name", "?")), meta.get("version", "?")
        if name in pinned:
            problems.append(f"the install would replace {name}=={pinned[name]} by {name} {version}")
    return problems


def from_freezes(pinned, before, after):
    problems = []
    for name, spec in pinned.items():
        old, new = before.get(name), after.get(name)
        if old is None or not matches(old, spec):
            problems.append(f"{name} was {old}, not the pinned {spec}, before the install")
        if old != new:
            problems.append(f"the install replaced {name} {old} by {new}")
    return problems


if __name__ == "__main__":
    mode, pins_path = sys.argv[1], sys.argv[2]
    pinned = pins(pins_path)
    if mode == "report":
        problems = from_report(pinned, sys.argv[3])
    else:
        problems = from_freezes(pinned, freeze(sys.argv[3]), freeze(sys.argv[4]))
    for p in problems:
        print(f"COLAB PIN BROKEN: {p}")
    sys.exit(1 if problems else 0)
PYEOF
printf '%s\n' "${PINS[@]}" > "$WORK/pins.txt"

# Expect the version check to fail and to name $2; used by the self-test and the planted fault.
expect_caught() {  # expect_caught WHAT WORDS -- command...
  local what=$1 words=$2 out
  shift 3
  if out=$("$@" 2>&1); then
    echo "FAIL: the version check did not catch $what"; echo "$out"; return 1
  fi
  if ! grep -q -- "$words" <<<"$out"; then
    echo "FAIL: the version check failed on $what but did not name '$words':"; echo "$out"; return 1
  fi
  echo "ok: caught $what: $(grep -- "$words" <<<"$out" | head -1)"
}

self_test() {
  # A report that would install numpy 2.4.6 and the package: the numpy line must be reported.
  cat > "$WORK/bad_report.json" <<'EOF'
{"version": "1", "install": [
  {"metadata": {"name": "lstm_lib", "version": "0.1.0"}},
  {"metadata": {"name": "numpy", "version": "2.4.6"}}]}
EOF
  echo '{"version": "1", "install": [{"metadata": {"name": "lstm_lib", "version": "0.1.0"}}]}' \
    > "$WORK/good_report.json"
  printf 'ipywidgets==7.7.1\nwidgetsnbextension==3.6.10\nplotly==5.24.1\nmatplotlib==3.10.9\nnumpy==2.1.3\ntorch==2.13.0+cpu\n' \
    > "$WORK/before.txt"
  sed 's/^matplotlib==3.10.9/matplotlib==3.11.2/' "$WORK/before.txt" > "$WORK/after_bad.txt"
  { cat "$WORK/before.txt"; echo "lstm_lib==0.1.0"; } > "$WORK/after_good.txt"
  "$PY" "$CHECK" report "$WORK/pins.txt" "$WORK/good_report.json"
  "$PY" "$CHECK" freeze "$WORK/pins.txt" "$WORK/before.txt" "$WORK/after_good.txt"
  expect_caught "a report installing numpy 2.4.6" "replace numpy==2.1.3 by numpy 2.4.6" -- \
    "$PY" "$CHECK" report "$WORK/pins.txt" "$WORK/bad_report.json"
  expect_caught "a freeze where matplotlib moved to 3.11.2" "replaced matplotlib 3.10.9 by 3.11.2" -- \
    "$PY" "$CHECK" freeze "$WORK/pins.txt" "$WORK/before.txt" "$WORK/after_bad.txt"
  expect_caught "a venv that never had the pins" "not the pinned" -- \
    "$PY" "$CHECK" freeze "$WORK/pins.txt" "$WORK/after_bad.txt" "$WORK/after_bad.txt"
  echo "self-test passed: the version check accepts a clean install and reports replaced pins"
}

if [[ "${1:-}" == "--self-test" ]]; then
  self_test
  trap - EXIT
  cleanup quiet
  exit 0
fi

start=$SECONDS
step() { echo "== colab: $1 ($((SECONDS - start)) s)"; }
quiet_pip() {  # pip, its output kept in a log that is shown only if it fails
  local log=$WORK/pip.log
  if ! "$VENV/bin/python" -m pip "$@" >"$log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -40
    return 1
  fi
}

VENV=${COLAB_VENV:-$WORK/venv}
step "self-test of the version check"
self_test

if [[ -n "${COLAB_PYTHON:-}" ]]; then
  COLAB_PY=$COLAB_PYTHON
elif ! COLAB_PY=$(find_colab_python); then
  echo "FAIL: Colab's Python (3.12) was not found: install it (pyenv install 3.12) or set COLAB_PYTHON"
  exit 1
fi
echo "Python for the venv: $COLAB_PY ($("$COLAB_PY" --version 2>&1))"

step "venv with Colab's versions: ${PINS[*]}"
if [[ "${COLAB_REUSE_VENV:-0}" == 1 && -x "$VENV/bin/python" ]]; then
  echo "reusing $VENV (COLAB_REUSE_VENV=1); uninstalling lstm_lib from it"
  quiet_pip uninstall -y -q lstm_lib || true
else
  rm -rf "$VENV"
  "$COLAB_PY" -m venv "$VENV"
fi
quiet_pip install -q "${PINS[@]}" "${TOOLS[@]}"
"$VENV/bin/python" -m pip freeze > "$WORK/freeze_before.txt"
"$VENV/bin/python" "$CHECK" freeze "$WORK/pins.txt" "$WORK/freeze_before.txt" "$WORK/freeze_before.txt"

step "would installing the package (pyproject.toml, as the Colab cell does) replace a pin?"
# The Colab cell installs "lstm_lib @ git+REPO_URL": pip clones the repository and builds it
# from pyproject.toml. Same here from a clean copy of this tree (no .git, no build leftovers),
# so that nothing is built inside the work tree.
SRC=$WORK/src
mkdir -p "$SRC"
tar -C "$ROOT" --exclude=./.git --exclude='*.egg-info' --exclude=./build --exclude='__pycache__' \
  --exclude='.venv*' -cf - . | tar -C "$SRC" -xf -
quiet_pip install --dry-run --report "$WORK/report.json" "$SRC"
"$VENV/bin/python" "$CHECK" report "$WORK/pins.txt" "$WORK/report.json"
echo "ok: the dry run installs only $("$VENV/bin/python" -c "import json,sys; print(', '.join(i['metadata']['name']+' '+i['metadata']['version'] for i in json.load(open(sys.argv[1]))['install']))" "$WORK/report.json")"

step "planted fault: a requirement that would replace a pin (ipywidgets>=8)"
quiet_pip install --dry-run --report "$WORK/planted.json" "ipywidgets>=8"
expect_caught "ipywidgets>=8 on top of the pins" "replace ipywidgets==7.7.1 by ipywidgets 8" -- \
  "$VENV/bin/python" "$CHECK" report "$WORK/pins.txt" "$WORK/planted.json"

step "install the package and compare pip freeze before/after"
quiet_pip install -q "$SRC"
"$VENV/bin/python" -m pip freeze > "$WORK/freeze_after.txt"
"$VENV/bin/python" "$CHECK" freeze "$WORK/pins.txt" "$WORK/freeze_before.txt" "$WORK/freeze_after.txt"
(cd "$WORK" && "$VENV/bin/python" - <<'PYEOF'
import ipywidgets, matplotlib, numpy, plotly, torch
import lstm_lib
print(f"ok: versions in the Colab venv: ipywidgets {ipywidgets.__version__}, plotly {plotly.__version__}, "
      f"matplotlib {matplotlib.__version__}, numpy {numpy.__version__}, torch {torch.__version__}; "
      f"lstm_lib {lstm_lib.__version__} from {lstm_lib.__file__}")
assert "site-packages" in lstm_lib.__file__, "lstm_lib should come from the installed package"
PYEOF
)

step "library tests against the installed package (no nbval, browser or notebook-file checks)"
# pytest from the venv's bin/ (not `python -m pytest`) and from outside the work tree, so that
# `import lstm_lib` (here and in the subprocesses tests start) finds the installed package, not
# the source folder; the project's addopts name plugins this venv lacks.
failed=()
set +e
(cd "$WORK" && "$VENV/bin/pytest" "$ROOT/tests" --rootdir "$ROOT" -q -o addopts="" -p no:cacheprovider \
  -p no:nbval --ignore="$ROOT/tests/test_browser_widgets.py" --ignore="$ROOT/tests/test_notebook_files.py" \
  --ignore="$ROOT/tests/browser" --ignore="$ROOT/tests/fixtures")
rc=$?
set -e
if [[ $rc -ne 0 && $rc -ne 5 ]]; then
  echo "FAIL: library tests in the Colab venv (exit $rc)"
  failed+=("library tests")
fi

step "nbval on every notebook in the Colab venv (outputs compared with the stored ones)"
# The kernel must be this venv's Python (Colab's versions), and it must import the installed
# package: nbval starts the kernel with this interpreter (--nbval-current-env) in the
# notebook's own folder, where no lstm_lib source folder lies.
set +e
(cd "$WORK" && "$VENV/bin/python" - <<'PYEOF'
import sys

import ipywidgets
import nbformat
import numpy
from nbclient import NotebookClient

probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    "import sys, ipywidgets, numpy, lstm_lib\nprint(sys.prefix, ipywidgets.__version__, numpy.__version__, lstm_lib.__file__, '%d.%d' % sys.version_info[:2])")])
NotebookClient(probe, timeout=120, kernel_name="python3").execute()
seen = probe.cells[0].outputs[0]["text"].split()
print("kernel:", " ".join(seen))
assert seen[0] == sys.prefix and seen[1:3] == ["7.7.1", "2.1.3"], f"wrong kernel environment: {seen}"
assert "site-packages" in seen[3], f"the kernel imports lstm_lib from {seen[3]}, not the installed package"
assert seen[4] == "%d.%d" % sys.version_info[:2], f"the kernel runs Python {seen[4]}"
PYEOF
) && (cd "$ROOT" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$VENV/bin/python" -m pytest notebooks -q -p no:cacheprovider -o addopts="" --nbval \
  --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -n "${COLAB_JOBS:-2}" --dist loadfile)
rc=$?
set -e
[[ $rc -eq 0 ]] || failed+=("notebooks (nbval)")

step "done"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "COLAB JOB FAILED: ${failed[*]}"
  exit 1
fi
echo "Colab job passed"
