"""A real JupyterLab, driven by a real Chromium, for the widget tests.

`JupyterLab(root)` starts `jupyter lab` on 127.0.0.1 (free port, no token, root allowed) over
a folder, with its own settings, workspaces and runtime folders, and logs to a file;
`stop()` shuts it down and ends every process it started (kernels included). `launch_chromium`
starts Debian's Chromium through Playwright (no browser download). `check_notebook` opens a
notebook, runs all cells, waits for the kernel, moves one slider per `.lstm-widget` with the
keyboard and reports, as a list of plain sentences, everything that went wrong.
"""
import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-dev-shm-usage"]
INSTALL_HINT = ("install Debian's Chromium with `apt-get install -y chromium` "
                "(and the Python package `playwright` from requirements.txt; no browser download needed)")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# JupyterLab user settings for the test server: every cell in the DOM (no virtual scrolling,
# so widgets below the fold exist), no autosave, no news or update checks.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def find_chromium():
    for path in (os.environ.get("CHROMIUM_PATH"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if path and os.access(path, os.X_OK):
            return path
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children():
    """Map pid -> list of child pids, read from /proc (Linux)."""
    kids = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(stat.parent.name))
    return kids


def descendants(pid):
    kids, found, todo = _children(), [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid):
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


class JupyterLab:
    """`jupyter lab` over `root`; use as a context manager or call start()/stop()."""

    def __init__(self, root, workdir):
        self.root = pathlib.Path(root)
        self.workdir = pathlib.Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "jupyterlab.log"
        self.proc = None
        self.started_pids = set()

    def start(self, timeout=120):
        settings = self.workdir / "settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
                   JUPYTER_DATA_DIR=str(self.workdir / "data"),
                   IPYTHONDIR=str(self.workdir / "ipython"), PYTHONUNBUFFERED="1")
        env.pop("JUPYTER_TOKEN", None)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", "--ServerApp.port_retries=0", "--allow-root",
               "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
               f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={self.workdir / 'workspaces'}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     cwd=self.root, start_new_session=True)
        self.started_pids.add(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=5) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {timeout} s\n{self.log_tail()}")

    def api(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def remember_processes(self):
        """Note every process the server has started so far (kernels run in their own sessions)."""
        if self.proc is not None:
            self.started_pids.update(descendants(self.proc.pid))

    def shutdown_kernels(self):
        self.remember_processes()
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, lines=80):
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return f"--- JupyterLab log ({self.log_path}), last {lines} lines ---\n" + "\n".join(text[-lines:])

    def stop(self):
        """Shut the server down (kernels first), then end whatever it started that is still alive.
        Returns the pids that had to be killed."""
        if self.proc is None:
            return []
        self.remember_processes()
        try:
            self.shutdown_kernels()
            self.api("POST", "/api/shutdown")
        except (urllib.error.URLError, OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        leftovers = [pid for pid in self.started_pids if alive(pid)]
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()
        self.proc = None
        return leftovers

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def launch_chromium(playwright, executable):
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


# ------------------------------------------------------------------ what the browser check does

def has_widgets(path):
    """A chapter with widgets: a stored widget view, or a widget cell (tagged
    nbval-ignore-output) whose code builds one."""
    nb = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if any(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", [])):
            return True
        src = "".join(cell.get("source", ""))
        tags = cell.get("metadata", {}).get("tags", [])
        if "nbval-ignore-output" in tags and ("interact(" in src or "_widget(" in src):
            return True
    return False


@dataclass
class Report:
    notebook: str
    problems: list = field(default_factory=list)
    widgets: int = 0
    moved: list = field(default_factory=list)  # (widget index, readout before, readout after)
    screenshot: str = ""
    seconds: float = 0.0


JS_STATE = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return {ready: false};
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  let pending = 0, unrun = 0, errors = [], stderr = [];
  cells.forEach((c, i) => {
    const prompt = c.node.querySelector('.jp-InputPrompt');
    if (prompt && prompt.textContent.includes('*')) pending++;
    if (c.model.sharedModel.getSource().trim() && c.model.executionCount === null) unrun++;
    c.model.outputs.toJSON().forEach(o => {
      if (o.output_type === 'error')
        errors.push({cell: i, text: o.ename + ': ' + o.evalue + '\\n' + (o.traceback || []).join('\\n')});
      if (o.output_type === 'stream' && o.name === 'stderr') stderr.push({cell: i, text: String(o.text)});
    });
  });
  return {ready: panel.context.isReady, kernel: kernel ? kernel.status : null, pending, unrun,
          cells: cells.length, errors, stderr};
}"""

JS_WIDGET_OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const found = [];
  panel.content.widgets.filter(c => c.model.type === 'code').forEach((c, i) => {
    const outs = c.model.outputs.toJSON();
    if (!outs.some(o => o.data && o.data['application/vnd.jupyter.widget-view+json'])) return;
    const area = c.node.querySelector('.jp-OutputArea');
    const text = area ? area.innerText : '';
    found.push({cell: i, rendered: !!(area && area.querySelector('.jupyter-widgets, .widget-box, .lstm-widget')),
                lstm: area ? area.querySelectorAll('.lstm-widget').length : 0,
                error: /Error displaying widget|Error rendering|model not found/i.test(text),
                text: text.slice(0, 300)});
  });
  return found;
}"""

JS_WIDGET_STATE = """(el) => {
  const img = el.querySelector('.widget-output img, .jp-OutputArea-output img');
  const readout = el.querySelector('.lstm-readout');
  const errs = Array.from(el.querySelectorAll(
      '[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output.jp-mod-error'))
    .map(e => e.innerText.slice(-600));
  return {readout: readout ? readout.innerText : null, img: img ? img.getAttribute('src') : null,
          errors: errs};
}"""

# The slider handle: noUiSlider in ipywidgets 8, jQuery UI in ipywidgets 7.
HANDLE = ".widget-slider .noUi-handle, .widget-slider .ui-slider-handle, .widget-hslider .ui-slider-handle"


def _digest(src):
    return hashlib.sha1(src.encode()).hexdigest()[:12] if src else None


def wait_state(page, condition, timeout, what):
    """Poll JS_STATE until condition(state) is true; returns the state, or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(JS_STATE)
        if condition(state):
            return state
        time.sleep(0.25)
    raise TimeoutError(f"{what} not reached within {timeout:.0f} s; last state: "
                       f"{json.dumps({k: v for k, v in (state or {}).items() if k not in ('errors', 'stderr')})}")


def idle(state):
    return state.get("ready") and state.get("kernel") == "idle" and state.get("pending") == 0


def check_notebook(context, lab, relpath, shots, run_timeout=420, slider_timeout=45):
    """Open `relpath` (relative to the server root) in a new page and check its widgets."""
    report = Report(pathlib.PurePosixPath(relpath).stem)
    started = time.monotonic()
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        _check(page, lab, relpath, report, run_timeout, slider_timeout)
    except Exception as exc:  # noqa: BLE001 - a browser failure is a reported problem
        report.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        try:
            shot = pathlib.Path(shots) / f"{report.notebook}.png"
            page.screenshot(path=str(shot))
            report.screenshot = str(shot)
        except Exception as exc:  # noqa: BLE001
            report.problems.append(f"no screenshot: {exc}")
        if report.problems and console:
            report.problems.append("browser console errors:\n    " + "\n    ".join(console[-15:]))
        page.close()
        try:
            lab.shutdown_kernels()
        except (urllib.error.URLError, OSError) as exc:
            report.problems.append(f"could not shut the kernel down: {exc}")
        report.seconds = time.monotonic() - started
    return report


def _check(page, lab, relpath, report, run_timeout, slider_timeout):
    page.goto(f"{lab.url}/lab/tree/{relpath}?reset", wait_until="domcontentloaded", timeout=120_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    wait_state(page, idle, 120, "kernel idle after opening")
    # Clear stored outputs (and counts) first, so that what is seen afterwards is this run's.
    page.evaluate("async () => { const c = window.jupyterapp.commands;"
                  " await c.execute('notebook:clear-all-cell-outputs'); }")
    page.evaluate("async () => { await window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    state = wait_state(page, lambda s: idle(s) and (s["unrun"] == 0 or s["errors"]), run_timeout,
                       "all cells run and kernel idle")
    time.sleep(1.0)  # let late widget views attach
    state = page.evaluate(JS_STATE)
    for err in state["errors"]:
        report.problems.append(f"cell {err['cell']} raised in the browser: {_plain(err['text'])[-1500:]}")
    for err in state["stderr"]:
        report.problems.append(f"cell {err['cell']} wrote to stderr: {_plain(err['text'])[:500]}")
    if state["unrun"] and not state["errors"]:
        report.problems.append(f"{state['unrun']} code cells did not run")
    if state["errors"]:
        _read_log_console(page, report)
        return

    views = page.evaluate(JS_WIDGET_OUTPUTS)
    for v in views:
        if v["error"] or not v["rendered"]:
            report.problems.append(f"cell {v['cell']}: widget did not render: {v['text']!r}")
    widgets = page.locator(".lstm-widget")
    report.widgets = widgets.count()
    if report.widgets == 0:
        report.problems.append("no .lstm-widget rendered in the page")
        _read_log_console(page, report)
        return
    for k in range(report.widgets):
        _move_one_slider(page, widgets.nth(k), k, report, slider_timeout)
    _read_log_console(page, report)


JS_LOG_COUNT = """() => {
  const item = document.querySelector('.jp-LogConsoleStatusItem');
  return item ? item.innerText.trim() : '';
}"""


def _read_log_console(page, report):
    """JupyterLab's log console gets what a widget callback raises (it is in no cell): any
    message there is a problem, reported with the console's text."""
    count = page.evaluate(JS_LOG_COUNT)
    if not count or count == "0":
        return
    page.evaluate("async () => { await window.jupyterapp.commands.execute("
                  "'logconsole:open', {insertMode: 'split-bottom'}); }")
    panel = page.locator(".jp-LogConsolePanel").first
    panel.wait_for(timeout=20_000)
    time.sleep(1.0)
    text = _plain(panel.inner_text())
    report.problems.append(f"the JupyterLab log console has {count} message(s) "
                           f"(e.g. from a widget callback): {text[-2000:]}")


def _move_one_slider(page, widget, k, report, timeout):
    widget.scroll_into_view_if_needed()
    before = widget.evaluate(JS_WIDGET_STATE)
    if before["errors"]:
        report.problems.append(f"widget {k}: error shown before any slider moved: {_plain(before['errors'][0])}")
    if before["readout"] is None:
        report.problems.append(f"widget {k}: no .lstm-readout")
    if before["img"] is None:
        report.problems.append(f"widget {k}: no figure image in its output")
    handles = widget.locator(HANDLE)
    if handles.count() == 0:
        report.problems.append(f"widget {k}: no slider handle found")
        return
    handle = handles.first
    now, top = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
    key = "Home" if now is not None and top is not None and float(now) >= float(top) else "End"
    handle.focus()
    handle.press(key)
    deadline = time.monotonic() + timeout
    after = before
    while time.monotonic() < deadline:
        after = widget.evaluate(JS_WIDGET_STATE)
        if after["errors"] or (after["readout"] != before["readout"] and after["img"]
                               and after["img"] != before["img"]):
            break
        time.sleep(0.25)
    wait_state(page, idle, timeout, "kernel idle after moving the slider")
    time.sleep(0.5)
    after = widget.evaluate(JS_WIDGET_STATE)
    widget.scroll_into_view_if_needed()
    if after["errors"]:
        report.problems.append(f"widget {k}: moving the slider ({key}) shows an error: "
                               f"{_plain(after['errors'][-1])}")
    if after["readout"] == before["readout"]:
        report.problems.append(f"widget {k}: slider moved ({key}) but the readout did not change: "
                               f"{_plain(before['readout'] or '')!r}")
    if not after["img"] or after["img"] == before["img"]:
        report.problems.append(f"widget {k}: slider moved ({key}) but the figure did not change "
                               f"(image {_digest(before['img'])} -> {_digest(after['img'])})")
    report.moved.append((k, key, _plain(before["readout"] or ""), _plain(after["readout"] or "")))


def _plain(text):
    """Drop ANSI colour codes from a traceback."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text or "")
