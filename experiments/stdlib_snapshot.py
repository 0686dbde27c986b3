"""Write the standard-library snapshot that chapter 11 reads: data/python-3.11.7-stdlib.tar.xz.

The archive holds the `.py` source of every module that `lstm_lib.text` names (the corpus, its
test text, the extra training text and the held-out text), copied byte for byte from CPython
3.11.7's standard library. Shipping the text makes the chapter read the same characters on
every Python (Colab runs 3.12, where asynchat, asyncore, imp and smtpd are gone). The archive
is deterministic: sorted members, mtime 0, owner 0, so re-running this script on Python 3.11.7
writes the same bytes.

    python experiments/stdlib_snapshot.py    # must run on Python 3.11.7
"""
import io
import pathlib
import platform
import sysconfig
import tarfile

from lstm_lib import text as tx

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    if platform.python_version() != tx.SNAPSHOT_PYTHON:
        raise SystemExit(f"run this on Python {tx.SNAPSHOT_PYTHON} (this is {platform.python_version()})")
    folder = pathlib.Path(sysconfig.get_paths()["stdlib"])
    names = sorted(set(tx.ALL_MODULES))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz", preset=9) as tar:
        for name in names:
            data = (folder / f"{name}.py").read_bytes()
            info = tarfile.TarInfo(f"{name}.py")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    out = ROOT / "data" / tx.SNAPSHOT
    out.write_bytes(buffer.getvalue())
    print(f"wrote {out.relative_to(ROOT)}: {len(names)} modules, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
