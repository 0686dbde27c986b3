"""Results of the longer experiments (experiments/*.py write them here), shipped with the
package so that the chapters show them in Colab too."""
import json
from importlib import resources


def load_result(name):
    """The stored results file `name` (e.g. 'long_range.json') as a dict."""
    path = resources.files(__name__) / name
    if not path.is_file():
        available = sorted(p.name for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))
        raise FileNotFoundError(f"no stored result {name!r}; available: {available}")
    return json.loads(path.read_text())
