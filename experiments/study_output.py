"""What the experiment scripts of chapters 07 and 08 do with their results: one dict with the
description, the settings (and the versions that produced them) and the runs, written as JSON
after every run (a stopped script keeps what it did) and once more with the total time."""
import json
import platform
import time

import numpy as np


def new_study(description, **settings):
    """The results dict, its clock started."""
    settings.update(numpy=np.__version__, python=platform.python_version())
    return {"description": description, "settings": settings, "runs": [],
            "_start": time.perf_counter()}


def write(out, path):
    """Write the results (without the clock) to `path` as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v for k, v in out.items() if k != "_start"}, indent=1))


def finish(out, path):
    """Record the total time, write the file and say where it went."""
    out["total_seconds"] = round(time.perf_counter() - out["_start"], 1)
    write(out, path)
    print(f"wrote {path} in {out['total_seconds']:.0f} s")
