"""The course side of lstm_lib: what serves the chapters, not the recurrent-network library.

Subpackages and modules: `widgets` (the interactive figures), `exercises` (each chapter's
self-checks, on `selfcheck`), `results` (stored results and small trained weights of the long
experiments), `diagram` (the LSTM cell drawn, chapters 00-06), `environment` (chapter 00),
`planted_bugs` (chapter 08), `smoothness` (chapter 12), and each later chapter's study code.
They import the library (lstm_lib.*); the library never imports them.

This file holds the facts about the course itself, each written once: the repository URL
(used by the Colab cell and the badges), the chapter list, and the first cell every notebook
starts with (it installs the package wherever it is missing)."""

REPO_URL = "https://github.com/lstm-from-scratch/lstm-from-scratch"
BRANCH = "main"

CHAPTERS = [
    ("00_start_here", "Start here: using the course in Jupyter and Colab"),
    ("01_rnn_gradients", "RNNs and their gradients: why they vanish or explode"),
    ("02_gates", "Gates: sigmoid switches that are learned"),
    ("03_candidate_cell", "The candidate cell c~: what to write"),
    ("04_cell_highway", "The cell-state highway: gradients that survive"),
    ("05_lstm_forward", "The LSTM layer, forward"),
    ("06_bptt", "Backpropagation through time"),
    ("07_training", "Training it: optimisers, clipping, truncated BPTT"),
    ("08_debugging", "Debugging an LSTM"),
    ("09_gru", "The GRU"),
    ("10_long_range_memory", "Long-range memory: the adding problem"),
    ("11_char_language_model", "A character language model"),
    ("12_against_pytorch", "Against PyTorch"),
    ("13_making_it_fast", "Making it fast"),
    ("14_which_parts_matter", "Which parts matter: LSTM variants"),
    ("15_after_the_lstm", "After the LSTM: gated linear recurrences"),
]

COLAB_CELL = f'''# Installs the course package where it is missing (Colab, Kaggle, a bare Jupyter); silent elsewhere.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("lstm_lib") is None:
    if importlib.util.find_spec("pip") is None:
        print("lstm_lib is not installed and this Python has no pip: see the README's set-up")
    else:
        source = "git+{REPO_URL}"
        print("lstm_lib is not installed here: installing it with pip from", source)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "lstm_lib @ " + source], check=True)
        importlib.invalidate_caches()
        print("installed lstm_lib")'''


def colab_url(notebook):
    """The Colab address of a notebook in the repository, e.g. colab_url('05_lstm_forward')."""
    repo = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/notebooks/{notebook}.ipynb"


def colab_badge(notebook):
    """Markdown for the "Open in Colab" badge of a notebook."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook)})")
