"""tools/check_kernels.py: it reports a notebook whose stored output is wrong, passes one whose
output is right, and notices when a setting's kernel or thread count was not applied."""
import importlib.util
import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_kernels", ROOT / "tools" / "check_kernels.py")
ck = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ck)


def notebook(path, stored):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("print(1 + 1)")
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


def test_wrong_stored_output_fails_and_right_one_passes(tmp_path, capsys):
    wrong = notebook(tmp_path / "wrong.ipynb", "3\n")
    right = notebook(tmp_path / "right.ipynb", "2\n")
    status = ck.main([str(wrong), str(right), "--settings", "default", "1-thread", "--jobs", "2"])
    out = capsys.readouterr().out
    table = out[out.index("notebook "):]
    assert status == 1
    assert "wrong.ipynb | FAIL 0" in table and "right.ipynb | pass" in table
    assert "2 of 4 runs failed" in out


def test_settings_change_only_their_own_variables():
    base = {"OPENBLAS_CORETYPE": "Zen", "PATH": "/bin"}
    assert ck.environment("default", base) == {"PATH": "/bin"}
    assert ck.environment("Haswell", base)["OPENBLAS_CORETYPE"] == "Haswell"
    one = ck.environment("1-thread", base)
    assert one["OPENBLAS_NUM_THREADS"] == "1" and "OPENBLAS_CORETYPE" not in one


def test_a_setting_the_blas_ignored_is_reported():
    ignored = {"library": "openblas", "kernel": "SkylakeX", "threads": 2}
    assert ck.expected_kernel_ok("Haswell", ignored) == [
        "asked for kernel Haswell, NumPy's OpenBLAS reports SkylakeX"]
    assert ck.expected_kernel_ok("1-thread", ignored) == ["asked for 1 thread, the BLAS reports 2"]
    assert ck.expected_kernel_ok("Haswell", dict(ignored, kernel="Haswell")) == []


def test_forced_kernels_take_effect_on_this_machine():
    info = ck.probe("Sandybridge")
    if info["library"] != "openblas":
        pytest.skip(f"NumPy uses {info['library']}, not OpenBLAS")
    assert ck.expected_kernel_ok("Sandybridge", info) == []
    assert ck.probe("1-thread")["threads"] == 1
