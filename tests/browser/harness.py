"""The pieces the browser fixtures are made of: a Jupyter server with throw-away dirs, and a notebook page driven
the way a person would (click a cell, Ctrl+Enter, wait for its prompt)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("RCNB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "rcnb-browser-tests"
VIEWPORT = {"width": 1280, "height": 1000}

# The settings a person would click away on first start: no news/update toasts (they would cover widgets).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


# --------------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat fields after the command name (ppid is [1], start time is [19]); None if gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _descendants(pid: int) -> dict[int, str]:
    """Every live descendant of `pid` with its start time, which tells it from a later process that reuses the pid
    (kernels run in their own session, so they are not in the server's process group)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child, started in parents.get(todo.pop(), []):
            found[child] = started
            todo.append(child)
    return found


class JupyterServer:
    """`jupyter lab` or `jupyter notebook` on a free loopback port, with throw-away dirs and a fixed token."""

    def __init__(self, app: str, base: Path) -> None:
        self.app = app
        self.base = base
        self.root = base / "notebooks"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ARTIFACTS / f"{app}-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> JupyterServer:
        dirs = {name: self.base / name for name in ("config", "runtime", "settings", "workspaces", "signatures", "home")}
        for path in [self.root, *dirs.values()]:
            path.mkdir(parents=True, exist_ok=True)
        # (Lab only: Notebook 7 has no such plugin, and a settings file for an unknown plugin throws in its core)
        for name, value in (LAB_SETTINGS if self.app == "lab" else {}).items():
            target = dirs["settings"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(value))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNCOMFY_", "JUPYTER_", "JUPYTERLAB_"))}
        env.update(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
                   JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]), JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
                   RUNCOMFY_NB_HOME=str(dirs["home"]), PYDEVD_DISABLE_FILE_VALIDATION="1", PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "jupyter", self.app, "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={self.root}", f"--NotebookNotary.data_dir={dirs['signatures']}",
               "--ServerApp.open_browser=False"]
        if self.app == "lab":
            cmd.append("--LabApp.expose_app_in_browser=True")  # window.jupyterapp: save / shut down like the menus
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"jupyter {self.app} did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def page_url(self, path: str) -> str:
        return f"{self.url}{path}{'&' if '?' in path else '?'}token={TOKEN}"

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                           "language": "python"}
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        path = self.root / name
        nbformat.write(notebook, path)
        return path

    def kernel_count(self) -> int:
        return len(self.api("GET", "/api/kernels"))

    def shutdown_kernels(self) -> None:
        """Shut every kernel down (each test starts from none)."""
        for session in self.api("GET", "/api/sessions"):
            with contextlib.suppress(urllib.error.HTTPError):  # already gone
                self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        children = _descendants(proc.pid)  # kernels still running now
        if proc.poll() is None:
            with contextlib.suppress(OSError, urllib.error.URLError):
                self.api("POST", "/api/shutdown")  # shuts its kernels down too
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for pid, started in children.items():  # any the server left behind: by pid, if it is still the same one
            fields = _stat(pid)
            if fields is not None and fields[19] == started:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


def stop_process_group(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM a server started in its own session (start_new_session=True) and all it started; SIGKILL after 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def marimo_run(app: Path, log_name: str = "marimo-server.log", timeout: float = 60) -> Iterator[str]:
    """`marimo run APP` on a free loopback port (cwd: the app's folder, package from this checkout); yields its URL.
    The server and everything it started (kernels run as its threads) are stopped afterwards."""
    port = free_port()
    log = (ARTIFACTS / log_name).open("wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "marimo", "run", str(app), "--headless", "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, cwd=app.parent)
    log.close()
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"marimo did not start: see test-artifacts/browser/{log_name}") from None
                time.sleep(0.2)
        yield url
    finally:
        stop_process_group(proc)


# --------------------------------------------------------------------------------------------------- pages

# Every status a job card ever showed, in order, per card: a transient state cannot slip between two checks.
STATUS_LOG_SCRIPT = """
(() => {
  window.__rcnbStatusLog = [];
  const seen = new WeakMap();
  let next = 0;
  const record = (el) => {
    if (!el.classList || !el.classList.contains('rcnb-card')) return;
    if (!seen.has(el)) seen.set(el, next++);
    const status = el.getAttribute('data-status');
    const log = window.__rcnbStatusLog;
    const id = seen.get(el);
    const last = [...log].reverse().find((e) => e.card === id);
    if (status && (!last || last.status !== status)) log.push({card: id, status, t: Date.now()});
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') record(r.target);
      for (const n of r.addedNodes || []) {
        if (n.nodeType !== 1) continue;
        record(n);
        n.querySelectorAll && n.querySelectorAll('.rcnb-card').forEach(record);
      }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-status']});
})();
"""

# Notebook 7.6's shortcuts plugin throws this on every page load, widgets or not (an empty notebook does it too).
KNOWN_PAGE_ERRORS = [r"reading 'schema'\)[\s\S]*notebook_core\.[0-9a-f]+\.js"]

SETUP_CELL = """%load_ext runcomfy_nb
import time
import runcomfy_nb as rc
from runcomfy_nb import config
config.set_simulator({url!r})  # what `%runcomfy sim on` does, for the simulator this test runs"""


class NotebookPage:
    """One notebook open in Lab (`ui="lab"`) or Notebook 7 (`ui="notebook"`), with cell helpers."""

    def __init__(self, page: Any, server: JupyterServer, name: str, ui: str) -> None:
        self.page = page
        self.server = server
        self.name = name
        self.ui = ui
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"{error.message}\n{error.stack}"))

    # ---- opening
    def open(self, timeout: float = 90_000) -> NotebookPage:
        path = f"/lab/tree/{self.name}?reset" if self.ui == "lab" else f"/notebooks/{self.name}"
        self.page.goto(self.server.page_url(path))
        self.wait_idle(timeout)
        if self.ui == "lab":
            self.page.evaluate("""() => { const app = window.jupyterapp;
                if (!app.shell.leftCollapsed) app.commands.execute('application:toggle-left-area'); }""")
        return self

    def wait_idle(self, timeout: float = 60_000) -> None:
        """Lab: the status bar says "… | Idle". Notebook 7: the toolbar's kernel indicator is idle."""
        if self.ui == "lab":
            self.page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text="| Idle").wait_for(timeout=timeout)
        else:  # the indicator says idle before a kernel is attached: the kernel's name must be there too
            self.page.locator(".jp-KernelName", has_text="Python 3").wait_for(timeout=timeout)
            self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                state="attached", timeout=timeout)
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout)

    # ---- cells
    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run(self, index: int, wait: bool = True, timeout: float = 60_000) -> None:
        """Put the caret in the cell and press Ctrl+Enter (run it, stay there), like a person would. Returns once
        this execution has started (the prompt changed: `[*]`), or with `wait` once it has finished (a new `[n]`),
        so running a cell a second time waits for the second run."""
        prompt = self.cell(index).locator(".jp-InputPrompt")
        before = prompt.inner_text().strip()
        self.cell(index).locator(".cm-content").click()
        self.page.keyboard.press("Control+Enter")
        handle = prompt.element_handle()
        self.page.wait_for_function("([el, before]) => el.textContent.trim() !== before", arg=[handle, before],
                                    timeout=10_000)
        if wait:
            self.page.wait_for_function("el => /^\\[\\d+\\]/.test(el.textContent.trim())", arg=handle, timeout=timeout)
            self.check_no_error(index)

    def prompt(self, index: int) -> str:
        return self.cell(index).locator(".jp-InputPrompt").inner_text().strip()

    def wait_done(self, index: int, timeout: float = 60_000) -> None:
        """For a cell started with `run(wait=False)`."""
        self.cell(index).locator(".jp-InputPrompt").filter(has_text=re.compile(r"\[\d+\]")).wait_for(timeout=timeout)
        self.check_no_error(index)

    def check_no_error(self, index: int) -> None:
        errors = self.cell(index).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert not tracebacks, f"cell {index} failed:\n" + "\n".join(tracebacks)

    def outputs(self, index: int) -> Any:
        return self.cell(index).locator(".jp-OutputArea-child")

    # ---- lab commands (what the menus do)
    def command(self, name: str, args: dict[str, Any] | None = None) -> Any:
        return self.page.evaluate("([name, args]) => window.jupyterapp.commands.execute(name, args)", [name, args or {}])

    def screenshot(self, name: str, target: Any = None) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if target is not None:  # its top at the top of the view: header, then as much of the rest as fits
            target.evaluate("e => e.scrollIntoView({block: 'start'})")
        self.page.screenshot(path=str(path))
        return path

    def unexpected_errors(self) -> list[str]:
        """Uncaught page errors, minus known noise of the Jupyter front ends themselves."""
        return [e for e in self.errors if not any(re.search(p, e) for p in KNOWN_PAGE_ERRORS)]

    def status_log(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => window.__rcnbStatusLog")
