"""Chapter 00: the environment check. Versions of what the course uses, Colab or not, whether
the sliders will work, and which parts of which chapters need the optional packages.

(The chapter's demonstration exercise is in `exercises/ch00.py`, its slider in `widgets/demo.py`.)
"""
import importlib.metadata
import platform
import sys
from dataclasses import dataclass, field

# what the course needs (required) and what some chapters use (optional)
REQUIRED = ("numpy", "matplotlib", "ipywidgets")
OPTIONAL = ("plotly", "torch", "jupyterlab", "jupyterlab_widgets")
MIN_PYTHON = (3, 9)

# The parts of the course that need an optional package: (chapter, sections, package, what).
# sections: a tuple of section numbers, or "all". Everything else runs on the required
# packages alone. tests/test_ch00.py reads the notebooks and checks this list against them.
OPTIONAL_PARTS = (
    ("05", ("5",), "torch", "the same numbers as torch.nn.LSTM"),
    ("09", ("4", "5"), "torch", "parity with torch.nn.GRU, and the parameter counts checked against PyTorch's"),
    ("12", ("1", "2", "4"), "torch", "parity with torch.nn.LSTM, the race, the timings"),
    ("12", ("2",), "plotly", "the zoomable figure of the race"),
    ("13", ("3", "7"), "torch", "the timings against torch.nn.LSTM and its cells"),
    ("14", ("3", "Going deeper"), "torch", "the variants against torch.nn.LSTM, and PyTorch's two biases"),
)


def _chapters_using(package):
    chapters = list(dict.fromkeys(c for c, _, pkg, _ in OPTIONAL_PARTS if pkg == package))
    return ("chapters " if len(chapters) > 1 else "chapter ") + ", ".join(chapters)


OPTIONAL_PACKAGES = tuple(dict.fromkeys(pkg for _, _, pkg, _ in OPTIONAL_PARTS))  # torch, plotly
USED_FOR = {"jupyterlab": "to run the course on your machine",
            "jupyterlab_widgets": "the sliders in JupyterLab",
            **{pkg: _chapters_using(pkg) for pkg in OPTIONAL_PACKAGES}}


def parts_needing(package):
    """The lines 'chapter NN, section(s) ..., needs PACKAGE: what' for the parts that need it."""
    lines = []
    for chapter, sections, pkg, what in OPTIONAL_PARTS:
        if pkg != package:
            continue
        where = ("the whole chapter" if sections == "all" else
                 ("section " if len(sections) == 1 else "sections ")
                 + ", ".join(sec if sec.isdigit() else f"'{sec}'" for sec in sections))
        lines.append(f"chapter {chapter}, {where}, needs {package}: {what}")
    return lines


def package_version(name):
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def in_colab():
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


def in_kernel():
    """True when running inside a Jupyter kernel (JupyterLab, Notebook, Colab, VS Code)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _major_minor(version):
    parts = (version.split(".") + ["0"])[:2]
    return tuple(int("".join(ch for ch in p if ch.isdigit()) or 0) for p in parts)


def widget_support(ipywidgets_version, frontend_version, colab, kernel):
    """Whether the sliders will work, and why: returns (ok, reason).

    ipywidgets_version: installed ipywidgets (None if missing); frontend_version: installed
    jupyterlab_widgets, the JupyterLab side of the widgets (None if missing); colab: running
    in Colab; kernel: running in a Jupyter kernel at all.
    """
    if ipywidgets_version is None:
        return False, "ipywidgets is not installed: run `pip install -r requirements.txt`"
    if _major_minor(ipywidgets_version) < (7, 6):
        return False, (f"ipywidgets {ipywidgets_version} is too old: the course needs 7.6 or "
                       f"newer (`pip install -U ipywidgets`)")
    if not kernel:
        return False, ("not running in a Jupyter kernel: open the notebook in JupyterLab or "
                       "Colab to move the sliders (the static figures show everywhere)")
    if colab:
        return True, f"Colab with ipywidgets {ipywidgets_version}: the sliders will work"
    if frontend_version is None:
        return False, ("jupyterlab_widgets is missing, so JupyterLab cannot draw sliders: "
                       "run `pip install -r requirements.txt` and restart JupyterLab")
    need = 3 if _major_minor(ipywidgets_version)[0] >= 8 else 1
    if _major_minor(frontend_version)[0] != need:
        return False, (f"ipywidgets {ipywidgets_version} needs jupyterlab_widgets {need}.x, "
                       f"found {frontend_version}: run `pip install -r requirements.txt`")
    return True, (f"ipywidgets {ipywidgets_version} with jupyterlab_widgets {frontend_version}: "
                  f"the sliders will work")


def parts_on_required_alone():
    """The chapters that need no optional package, e.g. ['00', ..., '05 (all but section 4)']."""
    from . import CHAPTERS

    whole = {chapter for chapter, sections, _, _ in OPTIONAL_PARTS if sections == "all"}
    parts = []
    for name, _ in CHAPTERS:
        chapter = name[:2]
        skip = sorted({sec for c, sections, _, _ in OPTIONAL_PARTS if c == chapter and sections != "all"
                       for sec in sections}, key=lambda sec: (not sec.isdigit(), int(sec) if sec.isdigit() else 0))
        if chapter in whole:
            continue
        named = [sec if sec.isdigit() else f"'{sec}'" for sec in skip]  # a numbered or a named section
        parts.append(f"{chapter} (all but section{'s' * (len(skip) > 1)} {', '.join(named)})"
                     if skip else chapter)
    return parts


@dataclass
class EnvironmentReport:
    python: str
    versions: dict = field(default_factory=dict)  # package -> version or None
    colab: bool = False
    kernel: bool = False
    widgets_ok: bool = False
    widgets_reason: str = ""

    @property
    def missing(self):
        """Required packages that are not installed."""
        return [p for p in REQUIRED if self.versions.get(p) is None]

    @property
    def python_ok(self):
        return _major_minor(self.python) >= MIN_PYTHON

    @property
    def ok(self):
        """Everything the course needs is there (sliders are a bonus, figures show anyway)."""
        return self.python_ok and not self.missing

    @property
    def cannot_run(self):
        """The parts of the course that will not run here, for want of an optional package."""
        return [line for pkg in OPTIONAL_PACKAGES if self.versions.get(pkg) is None
                for line in parts_needing(pkg)]

    def verdict(self):
        """Ready; ready except the parts listed (one per line); or not ready, and what is missing."""
        if not self.ok:
            return "not ready: missing " + ", ".join(self.missing or ["newer Python"])
        if self.cannot_run:
            return ("ready, except these parts (install the package to run them):\n    "
                    + "\n    ".join(self.cannot_run))
        return "ready: every chapter will run"

    def __str__(self):
        where = "Google Colab" if self.colab else ("a Jupyter kernel" if self.kernel
                                                    else "plain Python (no Jupyter kernel)")
        lines = [f"Python              {self.python}" + ("" if self.python_ok else
                                                  f"  (too old: need {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+)"),
                 f"running in          {where}"]
        for name, version in self.versions.items():
            tag = "required" if name in REQUIRED else f"optional: {USED_FOR[name]}"
            lines.append(f"{name:<19} {version or 'not installed'}  ({tag})")
        lines.append(("widgets             yes: " if self.widgets_ok else "widgets             no: ")
                     + self.widgets_reason)
        lines.append("verdict             " + self.verdict())
        return "\n".join(lines)


def check_environment():
    """Look at this Python: versions of what the course uses, Colab or not, widget support."""
    versions = {name: package_version(name) for name in REQUIRED + OPTIONAL}
    colab, kernel = in_colab(), in_kernel()
    ok, reason = widget_support(versions["ipywidgets"], versions["jupyterlab_widgets"],
                                colab, kernel)
    return EnvironmentReport(python=platform.python_version(), versions=versions, colab=colab,
                             kernel=kernel, widgets_ok=ok, widgets_reason=reason)
