"""tools/prose_stats.py, fed notebooks whose counts are known, including the cases it must not
count (folds, the optional part, tables, math) and a planted 41-word sentence."""
import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("prose_stats", ROOT / "tools" / "prose_stats.py")
ps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ps)


def notebook(tmp_path, *cells):
    nb = {"cells": [{"cell_type": t, "metadata": m, "source": s} for t, s, m in cells]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_counts_the_main_path_only(tmp_path):
    path = notebook(tmp_path,
                    ("markdown", "# Title\n\nOne two three four five.", {}),
                    ("markdown", "<details><summary>Hint</summary>hidden words here</details>\n\n| a | b |\n$$x$$", {}),
                    ("markdown", "## Going deeper\n\nNot counted at all here.", {}))
    row = ps.stats(path)
    assert (row["words"], row["over_40"], row["longest"]) == (6, 0, 5)


def test_a_planted_long_sentence_is_found(tmp_path):
    long = " ".join(["word"] * 41) + "."
    row = ps.stats(notebook(tmp_path, ("markdown", f"Short one here. {long} Another short one.", {})))
    assert (row["over_40"], row["longest"]) == (1, 41)


def test_check_cells_shown_and_folded_are_told_apart(tmp_path):
    folded = {"tags": ["check"], "jupyter": {"source_hidden": True}}
    row = ps.stats(notebook(tmp_path, ("code", "assert 1", {"tags": ["check"]}), ("code", "assert 2", folded)))
    assert (row["check_cells"], row["checks_shown"]) == (2, 1)
