"""A one-line progress display that updates in place in a notebook and in a terminal."""
import sys
import time


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Progress:
    """`update(text)` shows text at most every `every` seconds; `close(text)` shows the last
    line. In a notebook it updates one display; in a terminal it rewrites one line.
    With enabled=False it does nothing."""

    def __init__(self, enabled=True, every=0.25, stream=None):
        self.enabled, self.every = enabled, every
        self.stream = stream or sys.stdout
        self._last = 0.0
        self._handle = None
        self._notebook = enabled and stream is None and _in_notebook()

    def update(self, text, force=False):
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        if self._notebook:
            from IPython.display import display

            if self._handle is None:
                self._handle = display(_Text(text), display_id=True)
            else:
                self._handle.update(_Text(text))
        else:
            self.stream.write("\r" + text)
            self.stream.flush()

    def close(self, text):
        if not self.enabled:
            return
        self.update(text, force=True)
        if not self._notebook:
            self.stream.write("\n")
            self.stream.flush()


class _Text:
    """Plain text for IPython's display (shown without quotes)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text
