"""The standard-library snapshot that chapter 11 reads: complete, faithful, the same on every Python."""
import pathlib
import platform
import sysconfig
import tarfile

import pytest

from lstm_lib import text as tx

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_snapshot_holds_every_named_module_and_nothing_else():
    assert sorted(tx.snapshot()) == sorted(set(tx.ALL_MODULES))
    assert len(set(tx.ALL_MODULES)) == len(tx.ALL_MODULES)  # no module in two roles
    assert (ROOT / "data" / tx.SNAPSHOT).stat().st_size < 1_000_000


def test_the_held_out_text_is_other_modules_of_the_stated_size():
    others = set(tx.CORPUS_MODULES) | set(tx.TEST_MODULES) | set(tx.MORE_TRAINING_MODULES)
    assert not set(tx.HELD_OUT_MODULES) & others
    sizes = [len(tx.snapshot()[m].encode("utf-8")) for m in tx.HELD_OUT_MODULES]
    assert all(2_000 <= s <= 10_000 for s in sizes), sizes


def test_every_python_reads_the_texts_the_shipped_model_was_trained_on():
    c = tx.load_stdlib_corpus()
    assert c.sources == list(tx.CORPUS_MODULES) and c.test_sources == list(tx.TEST_MODULES)
    assert len(c.text) == 383_236  # the chapter's 17 modules in 3.11.7
    _, names = tx.more_training_ids(c)
    assert names == list(tx.MORE_TRAINING_MODULES)  # all 72, also where Python dropped some


@pytest.mark.skipif(platform.python_version() != tx.SNAPSHOT_PYTHON,
                    reason=f"compares the snapshot with the files of Python {tx.SNAPSHOT_PYTHON}")
def test_the_snapshot_is_cpython_3_11_7_byte_for_byte():
    folder = pathlib.Path(sysconfig.get_paths()["stdlib"])
    for name, source in tx.snapshot().items():
        assert source == (folder / f"{name}.py").read_text(encoding="utf-8"), name


def test_a_module_missing_from_the_snapshot_is_named(monkeypatch):
    with pytest.raises(KeyError, match="asyncore"):
        monkeypatch.setattr(tx, "snapshot", lambda: {"textwrap": "x"})
        tx.stdlib_sources(("textwrap", "asyncore"))


def test_the_snapshot_script_writes_a_deterministic_archive():
    with tarfile.open(ROOT / "data" / tx.SNAPSHOT) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert all(m.mtime == 0 and m.uid == 0 and m.mode == 0o644 for m in members)


def test_the_package_ships_the_snapshot_and_its_licence():
    import fnmatch
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["lstm_lib.data"]
    assert config["package-dir"]["lstm_lib.data"] == "data"
    for name in (tx.SNAPSHOT, "PYTHON-LICENSE.txt"):
        assert (ROOT / "data" / name).is_file()
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name
    assert "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in (ROOT / "data" / "PYTHON-LICENSE.txt").read_text()
