"""Chapter 00: the environment check (versions, Colab or not, whether sliders will work) and
the demonstration self-check the chapter uses to show how exercises are checked."""
import importlib.metadata
import platform
import sys
from dataclasses import dataclass, field

import numpy as np

from .selfcheck import Mistake, expect_array, self_check

# what the course needs (required) and what some chapters use (optional)
REQUIRED = ("numpy", "matplotlib", "ipywidgets")
OPTIONAL = ("plotly", "torch", "jupyterlab", "jupyterlab_widgets")
MIN_PYTHON = (3, 9)


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

    def __str__(self):
        where = "Google Colab" if self.colab else ("a Jupyter kernel" if self.kernel
                                                    else "plain Python (no Jupyter kernel)")
        lines = [f"Python              {self.python}" + ("" if self.python_ok else
                                                  f"  (too old: need {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+)"),
                 f"running in          {where}"]
        for name, version in self.versions.items():
            tag = "required" if name in REQUIRED else "optional"
            lines.append(f"{name:<19} {version or 'not installed'}  ({tag})")
        lines.append(("widgets             yes: " if self.widgets_ok else "widgets             no: ")
                     + self.widgets_reason)
        lines.append("verdict             " + ("ready: every chapter will run" if self.ok else
                                       "not ready: missing " + ", ".join(self.missing or ["newer Python"])))
        return "\n".join(lines)


def check_environment():
    """Look at this Python: versions of what the course uses, Colab or not, widget support."""
    versions = {name: package_version(name) for name in REQUIRED + OPTIONAL}
    colab, kernel = in_colab(), in_kernel()
    ok, reason = widget_support(versions["ipywidgets"], versions["jupyterlab_widgets"],
                                colab, kernel)
    return EnvironmentReport(python=platform.python_version(), versions=versions, colab=colab,
                             kernel=kernel, widgets_ok=ok, widgets_reason=reason)


# --- the demonstration self-check of chapter 00 ---------------------------------------------

@self_check("your_mean gives the same numbers as np.mean, for rows and for columns")
def check_demo_mean(your_mean):
    """Demo exercise: `your_mean(x, axis)` averages a 2-D array along `axis` without np.mean."""
    x = np.arange(12.0).reshape(3, 4)
    for axis in (0, 1):
        try:
            got = your_mean(x, axis)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            raise Mistake(f"your_mean(x, axis={axis}) raised {type(exc).__name__}: {exc}")
        got = expect_array(got, f"your_mean(x, axis={axis})")
        want = x.mean(axis=axis)
        if got.shape != want.shape:
            other = x.mean(axis=1 - axis)
            if got.shape == other.shape:
                raise Mistake(f"your_mean(x, axis={axis}) has shape {got.shape}, expected "
                              f"{want.shape}: you averaged along the other axis")
            raise Mistake(f"your_mean(x, axis={axis}) has shape {got.shape}, expected {want.shape}")
        if np.allclose(got, x.sum(axis=axis)):
            raise Mistake(f"your_mean(x, axis={axis}) returns the sum: divide by the number "
                          f"of elements along the axis ({x.shape[axis]})")
        if np.allclose(got, x.sum(axis=axis) / x.shape[1 - axis]):
            raise Mistake(f"your_mean(x, axis={axis}) divides by {x.shape[1 - axis]}, the "
                          f"length of the other axis: divide by x.shape[{axis}] = {x.shape[axis]}")
        if not np.allclose(got, want):
            raise Mistake(f"your_mean(x, axis={axis}) is off by up to "
                          f"{np.max(np.abs(got - want)):.3g}")


# --- the demonstration widget of chapter 00 ---------------------------------------------------

def plot_demo_sigmoid(slope=1.0):
    """The demo widget's figure: sigmoid(slope * z) for z in [-6, 6]."""
    import matplotlib.pyplot as plt

    from ..activations import sigmoid

    z = np.linspace(-6, 6, 241)
    fig, ax = plt.subplots(figsize=(5, 2.6), dpi=80)
    ax.plot(z, sigmoid(slope * z))
    ax.set_xlabel("z")
    ax.set_ylabel(f"sigmoid({slope:.1f} z)")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def summary_demo_sigmoid(slope=1.0):
    """The demo widget's readout: the curve's value at z = 1."""
    from ..activations import sigmoid

    return f"slope {slope:.1f}: sigmoid({slope:.1f} &middot; 1) = <b>{float(sigmoid(slope)):.3f}</b>"


def demo_widget(slope=1.0):
    """A one-slider widget to see whether sliders work here."""
    from .widgets import interact, slider

    return interact(plot_demo_sigmoid, summary_demo_sigmoid,
                    slope=slider("slope a", 0.2, 5.0, 0.1, slope))
