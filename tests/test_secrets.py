"""The token never leaks: not into a saved notebook (outputs or widget state), its HTML export, any repr/str,
any exception (auth failure, 422, not found, …), log records (DEBUG, httpx/httpcore included), the journal
database, or the simulator's own output; and the Authorization header goes to the API's host only.

The token is distinctive and random per run; a leak is looked for as the whole token, halves of its random part,
and its base64 forms (any alignment).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import secrets
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

import runcomfy_nb as rc
from runcomfy_nb._http import RetryPolicy
from runcomfy_nb._loop import run_sync
from runcomfy_nb._outputs import parse_outputs

TOKEN = "rcnb-secret-" + secrets.token_hex(16)
ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"
WAN = "wan-ai/wan-2-5/text-to-image"


def leak_patterns(token: str) -> list[bytes]:
    raw = token.encode()
    random_part = token.rsplit("-", 1)[-1].encode()
    half = len(random_part) // 2
    patterns = {raw, random_part, random_part[:half], random_part[half:]}
    for offset in range(3):  # base64 of any text holding the token contains one of these
        patterns.add(base64.b64encode(b"x" * offset + raw)[4:-4])
    return sorted(patterns)


PATTERNS = leak_patterns(TOKEN)


def leaks(data: str | bytes, token: str = TOKEN) -> list[str]:
    blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    patterns = PATTERNS if token == TOKEN else leak_patterns(token)
    return [p.decode() for p in patterns if p in blob]


def assert_no_leak(what: str, data: str | bytes) -> None:
    found = leaks(data)
    assert not found, f"the token leaked into {what} (as {len(found)} pattern(s))"


def exception_texts(error: BaseException) -> list[str]:
    """str, repr, args, the formatted traceback, and the same for every chained exception (suppressed too)."""
    texts: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        texts += [str(item), repr(item), repr(item.args), "".join(traceback.format_exception(item)),
                  repr(getattr(item, "details", None)), repr(getattr(item, "errors", None))]
        stack += [item.__cause__, item.__context__]
    return texts


@pytest.fixture(scope="module")
def secret_sim() -> Iterator[Any]:
    """A simulator of its own that accepts only TOKEN.

    Made with `Simulator(...)` rather than `rc.sim.start()`: start() returns (and would reconfigure with this
    token) the session's shared simulator when it already runs, breaking every later test that uses it.
    """
    from runcomfy_nb.sim import Simulator

    sim = Simulator(port=0, token=TOKEN, time_scale=0.1, workers=3).start()
    assert sim.counters()["submits_received"] == 0
    yield sim
    sim.stop()


# --- the quickstart, headless, with the token in the kernel's environment ---------------------------------------

LOGGING_CELL = """\
import logging, os
_rcnb_handler = logging.FileHandler(os.environ["RCNB_SECRET_LOG"], encoding="utf-8")
_rcnb_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
_rcnb_handler.setLevel(logging.DEBUG)
logging.getLogger().addHandler(_rcnb_handler)
logging.getLogger().setLevel(logging.DEBUG)
for _name in ("runcomfy_nb", "httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.DEBUG)
# Hold a connection to the journal open for the whole run: SQLite deletes the -wal file when the last connection
# closes, and the journal closes its connection after every write; this keeps the WAL (and what it holds) around.
import sqlite3
from runcomfy_nb._journal import default_journal
_rcnb_journal = default_journal().path
default_journal().list(limit=1)  # creates it, in WAL mode
_rcnb_hold = sqlite3.connect(_rcnb_journal)
_rcnb_hold.execute("SELECT count(*) FROM jobs").fetchall()  # a reader of the WAL from now on
"""

PROBE_CELL = """\
import json, os, traceback
import runcomfy_nb as rc
from runcomfy_nb._http import RetryPolicy
from runcomfy_nb._loop import run_sync
from runcomfy_nb.modelform import ModelForm
from runcomfy_nb.widgets import JobView, view_of

_T = os.environ["RUNCOMFY_API_TOKEN"]
_client = rc.default_client()
assert not _client.simulator and _client.endpoint.base_url == os.environ["RUNCOMFY_API_BASE"]
_form = rc.form("wan-ai/wan-2-5/text-to-image", prompt="a form run", aspect_ratio="1024:1024 (1:1)")
_form_job = _form.submit()
await _form_job
_failing = _client.submit("wan-ai/wan-2-5/text-to-image", prompt="sim:fail on purpose")
_errors = []

def _catch(fn):
    try:
        fn()
    except Exception as error:
        _errors.append(error)
        return error
    raise AssertionError("expected an error")

_catch(lambda: _failing.wait(60))                                                    # JobFailedError
_bad = rc.Client(token=_T + "-revoked", base_url=os.environ["RUNCOMFY_API_BASE"])   # a wrong token
_catch(lambda: _bad.submit("wan-ai/wan-2-5/text-to-image", prompt="x"))              # AuthError (401, 400004)
_catch(lambda: run_sync(_bad.transport.status(fox.request_id)))                            # AuthError on a GET
_catch(lambda: _client.submit("wan-ai/wan-2-5/text-to-image",                        # 422 from the server
                              {"prompt": "x", "aspect_ratio": "7:3"}, validate=False))
_catch(lambda: run_sync(_client.transport.status("nosuchrequest0")))                       # NotFoundError 404001
_catch(lambda: _client.submit("nosuch/model/x", {"prompt": "x"}, validate=False))    # NotFoundError 400001
_catch(lambda: rc.attach("not-in-the-journal"))                                      # NotFoundError (journal)
_catch(lambda: _client.submit("wan-ai/wan-2-5/text-to-image", {"prompt": 5}))        # InputValidationError
_catch(lambda: rc.Client(token=_T, base_url="http://127.0.0.1:9",                    # ServerError: no server
                         retry=RetryPolicy(attempts=2, base_delay=0.01)).submit(
                             "wan-ai/wan-2-5/text-to-image", prompt="x"))
_form_view = JobView(_form_job)
_forms = [v for v in Out.values() if isinstance(v, ModelForm)]
assert _forms, "the quickstart's form is in Out"
_jobs = [fox, dream, clip, _form_job, _failing]
_views = [view_of(job) for job in (fox, dream, clip) if view_of(job) is not None] + [_form_view]
assert len(_views) == 4
_objects = [_client, _client.endpoint, _client.transport, _client.endpoint.token, _bad, _bad.endpoint, _bad.transport,
            *_jobs, *(o for job in _jobs for o in job.outputs), *_forms, _form, *_views]
_texts = []
for _o in _objects:
    _texts += [repr(_o), str(_o), f"{_o}", f"{_o!r}"]
    if hasattr(_o, "_repr_html_"):
        _texts.append(_o._repr_html_() or "")
for _w in [*_forms, _form, *_views]:
    _texts.append(json.dumps(_w.get_state(), default=repr))
    _texts.append(_w._fallback_html())
for _e in _errors:
    _seen, _stack = set(), [_e]
    while _stack:
        _x = _stack.pop()
        if _x is None or id(_x) in _seen:
            continue
        _seen.add(id(_x))
        _texts += [str(_x), repr(_x), repr(_x.args), "".join(traceback.format_exception(_x)),
                   repr(getattr(_x, "body", None)), repr(getattr(_x, "details", None))]
        _stack += [_x.__cause__, _x.__context__]
_texts.append(json.dumps(rc.jobs(limit=None), default=repr))
with open(os.environ["RCNB_PROBE_OUT"], "w", encoding="utf-8") as _f:
    json.dump({"texts": _texts, "errors": [type(e).__name__ for e in _errors],
               "request_ids": [j.request_id for j in _jobs]}, _f)
print("probe:", len(_texts), "texts;", ", ".join(type(e).__name__ for e in _errors))
import shutil
for _p in _rcnb_journal.parent.glob("journal.sqlite3*"):  # the database, its -wal and -shm, while they exist
    shutil.copy(_p, os.environ["RCNB_JOURNAL_SNAPSHOT"])
_rcnb_hold.close()
assert not [t for t in _texts if _T in t], "the token leaked (see the probe file)"
"""

RAISE_CELL = """\
_bad.submit("wan-ai/wan-2-5/text-to-image", prompt="an uncaught auth failure, shown as the notebook shows it")
"""


@pytest.mark.notebooks
def test_quickstart_with_a_real_token_leaks_it_nowhere(secret_sim: Any, tmp_path: Path, isolated_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log_file, probe_file, snapshot = tmp_path / "kernel.log", tmp_path / "probe.json", tmp_path / "journal-snapshot"
    snapshot.mkdir()
    monkeypatch.setenv("RCNB_JOURNAL_SNAPSHOT", str(snapshot))
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    monkeypatch.setenv("RUNCOMFY_API_BASE", secret_sim.base_url)
    monkeypatch.setenv("RCNB_SECRET_LOG", str(log_file))
    monkeypatch.setenv("RCNB_PROBE_OUT", str(probe_file))
    workdir = tmp_path / "work"
    workdir.mkdir()
    notebook = nbformat.read(QUICKSTART, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(LOGGING_CELL))
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE_CELL))
    notebook.cells.append(nbformat.v4.new_code_cell(RAISE_CELL, metadata={"tags": ["raises-exception"]}))
    NotebookClient(notebook, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    saved = workdir / "quickstart.ipynb"
    nbformat.write(notebook, saved)

    # It really ran against the token-only simulator (the setup cell saw a token and started no simulator).
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs)
    assert "RunComfy simulator running" not in text and "probe:" in text
    assert secret_sim.counters()["submits_accepted"] >= 5
    probe = json.loads(probe_file.read_text(encoding="utf-8"))
    assert set(probe["errors"]) >= {"JobFailedError", "AuthError", "ServerValidationError", "NotFoundError",
                                    "InputValidationError", "ServerError"}
    assert len(probe["texts"]) > 100
    (error,) = [o for o in outputs if o.get("output_type") == "error"]
    assert error["ename"] == "AuthError" and "Authentication failed" in error["evalue"]

    # The saved file: outputs, and the widget state nbclient stored in metadata.widgets.
    widget_state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    states = json.dumps(widget_state)
    assert all(request_id in states for request_id in probe["request_ids"][:4])  # JobViews and the form's history
    raw = saved.read_bytes()
    assert probe["request_ids"][0].encode() in raw
    assert_no_leak("the saved notebook", raw)
    assert_no_leak("the stored widget state", states)
    html, _ = HTMLExporter().from_notebook_node(nbformat.reads(raw.decode("utf-8"), as_version=4))
    assert probe["request_ids"][0] in html and "Authentication failed" in html
    assert_no_leak("the nbconvert HTML", html)
    for item in probe["texts"]:
        assert_no_leak("a repr/str/exception text in the kernel", item)

    # Log records, at DEBUG, httpx and httpcore included.
    log = log_file.read_text(encoding="utf-8")
    assert "httpx INFO HTTP Request: POST" in log and "httpcore" in log and " 401 " in log
    assert_no_leak("the kernel's log records", log)

    # The journal: the SQLite file and its WAL, as raw bytes (as the kernel left them, and as they were mid-run).
    wal = snapshot / "journal.sqlite3-wal"
    assert wal.stat().st_size > 0 and probe["request_ids"][0].encode() in wal.read_bytes()
    files = sorted(isolated_home.glob("journal.sqlite3*")) + sorted(snapshot.iterdir())
    assert files and files[0].name == "journal.sqlite3"
    journal = b"".join(f.read_bytes() for f in files)
    assert probe["request_ids"][0].encode() in journal and b"Authentication failed" in journal
    for file in files:
        assert_no_leak(f"the journal file {file.name}", file.read_bytes())


# --- in process: reprs, exceptions, logs, and the simulator as a subprocess ---------------------------------------

@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`python -m runcomfy_nb.sim --token TOKEN` with its stdout and stderr captured to files."""
    out, err = (tmp_path / "sim.out").open("w+b"), (tmp_path / "sim.err").open("w+b")
    proc = subprocess.Popen([sys.executable, "-m", "runcomfy_nb.sim", "--port", "0", "--token", TOKEN,
                             "--time-scale", "0.05"], stdout=out, stderr=err, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    info: dict[str, Any] = {"proc": proc, "stdout": tmp_path / "sim.out", "stderr": tmp_path / "sim.err"}
    try:
        for _ in range(300):
            first = (tmp_path / "sim.out").read_text()
            if "\n" in first:
                info["url"] = first.splitlines()[0].strip()
                break
            assert proc.poll() is None, (tmp_path / "sim.err").read_text()
            threading.Event().wait(0.05)
        assert info.get("url", "").startswith("http://127.0.0.1:")
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        out.close()
        err.close()


@pytest.mark.slow
def test_client_objects_exceptions_and_logs_against_the_simulator_process(
        sim_process: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("runcomfy_nb", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    url = sim_process["url"]
    client = rc.Client(token=TOKEN, base_url=url, retry=RetryPolicy(attempts=4, base_delay=0.01))
    bad = rc.Client(token="wrong-" + secrets.token_hex(8), base_url=url, retry=RetryPolicy(attempts=2, base_delay=0.01))
    texts: list[str] = []
    errors: list[BaseException] = []

    def expect(fn: Any, kind: type[BaseException]) -> None:
        with pytest.raises(kind) as caught:
            fn()
        errors.append(caught.value)

    try:
        job = client.submit(WAN, prompt="a lighthouse", aspect_ratio="1024:1024 (1:1)")
        outputs = job.wait(60)
        assert outputs and outputs[0].read()[:8] == b"\x89PNG\r\n\x1a\n"  # a download from the API's own host
        failing = client.submit(WAN, prompt="sim:fail now")
        expect(lambda: failing.wait(60), rc.JobFailedError)
        expect(lambda: bad.submit(WAN, prompt="x"), rc.AuthError)
        expect(lambda: run_sync(bad.transport.result(job.request_id)), rc.AuthError)
        expect(lambda: client.submit(WAN, {"prompt": "x", "aspect_ratio": "7:3"}, validate=False), rc.ServerValidationError)
        expect(lambda: run_sync(client.transport.cancel("nosuchrequest0")), rc.NotFoundError)
        expect(lambda: client.submit("nosuch/model/x", {"prompt": "x"}, validate=False), rc.NotFoundError)
        expect(lambda: client.submit(WAN, {"prompt": "x", "colour": "red"}), rc.InputValidationError)
        # faults: a dropped connection on submit (not retried) and 503s on status (retried, then logged)
        httpx.post(f"{url}/_sim/config", json={"fail_next": {"submit": 1}, "fail_next_kind": "drop"}).raise_for_status()
        expect(lambda: client.submit(WAN, prompt="dropped"), rc.SubmitUncertainError)
        httpx.post(f"{url}/_sim/config", json={"fail_next": {"status": 6}, "fail_next_kind": "503"}).raise_for_status()
        expect(lambda: run_sync(client.transport.status(job.request_id)), rc.ServerError)
        for item in (client, client.endpoint, client.transport, client.endpoint.token, bad, bad.endpoint, job, failing,
                     *outputs):
            texts += [repr(item), str(item), f"{item}", f"{item!r}"]
        texts += [job._repr_html_(), failing._repr_html_(), json.dumps(rc.jobs(limit=None), default=repr)]
        for error in errors:
            texts += exception_texts(error) + [repr(getattr(error, "body", None))]
        # the non-API namespace shows the token as "(set)" only
        for path in ("/_sim", "/_sim/config", "/_sim/counters", "/_sim/jobs"):
            answer = httpx.get(url + path)
            assert answer.status_code == 200
            texts.append(answer.text)
        assert '"(set)"' in httpx.get(url + "/_sim/config").text
    finally:
        client.close()
        bad.close()
    assert {type(e).__name__ for e in errors} >= {"JobFailedError", "AuthError", "ServerValidationError",
                                                  "NotFoundError", "InputValidationError", "SubmitUncertainError",
                                                  "ServerError"}
    for item in texts:
        assert_no_leak("a repr/str/exception text", item)
        assert not leaks(item, bad.endpoint.token.reveal()), "the wrong token leaked"
    # the token cannot be pickled into a file by accident
    with pytest.raises(TypeError):
        pickle.dumps(client.endpoint)
    # log records, every logger, at DEBUG: message, args and the formatted text
    assert any(r.name == "httpx" and "HTTP Request" in r.getMessage() for r in caplog.records)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    for record in caplog.records:
        assert_no_leak(f"a log record of {record.name}", f"{record.getMessage()} {record.args!r} {record.exc_text}")
    assert_no_leak("the captured log text", caplog.text)
    # the simulator process: stop it (SIGTERM → exit 0), then read everything it printed
    proc = sim_process["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    stdout, stderr = sim_process["stdout"].read_bytes(), sim_process["stderr"].read_bytes()
    assert stdout.startswith(url.encode())
    assert_no_leak("the simulator's stdout", stdout)
    assert_no_leak("the simulator's stderr", stderr)


# --- the Authorization header goes to the API's host only --------------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    server: Any

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                                     "body": body})
        route = self.server.route(self)
        status, headers, payload = route
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def _serve(route: Any) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests, server.route = [], route
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def hosts() -> Iterator[tuple[Any, Any]]:
    """An "API" host and a "CDN" host (another port: another origin), both recording every request's headers."""
    def cdn_route(handler: Any) -> tuple[int, dict[str, str], bytes]:
        if "/v1/requests/" in handler.path:
            return 200, {"Content-Type": "application/json"}, b'{"request_id": "r1", "status": "in_queue"}'
        return 200, {"Content-Type": "image/png"}, PNG

    cdn = _serve(cdn_route)

    def api_route(handler: Any) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(handler.path)
        if parts.path == "/redirect":
            return 302, {"Location": parse_qs(parts.query)["to"][0]}, b""
        if parts.path == "/v1/requests/r1/status":  # the API moved this request elsewhere
            return 307, {"Location": f"{cdn.url}/v1/requests/r1/status"}, b""
        return 200, {"Content-Type": "image/png"}, PNG

    api = _serve(api_route)
    yield api, cdn
    for server in (api, cdn):
        server.shutdown()
        server.server_close()


def _auth(request: dict[str, Any]) -> str | None:
    return next((v for k, v in request["headers"].items() if k.lower() == "authorization"), None)


def test_authorization_is_sent_to_the_api_host_only(hosts: tuple[Any, Any], tmp_path: Path) -> None:
    api, cdn = hosts
    client = rc.Client(token=TOKEN, base_url=api.url, retry=RetryPolicy(attempts=2, base_delay=0.01))
    try:
        port = api.url.rsplit(":", 1)[1]
        outputs = parse_outputs({
            "image": f"{cdn.url}/o/cdn.png",                                  # another host (another port)
            "video": f"{api.url}/o/own.mp4",                                  # the API's own host
            "images": [f"{api.url}/redirect?to={cdn.url}/o/redirected.png",   # the API's host, redirected away
                       f"http://localhost:{port}/o/alias.png"],               # same server, another host name
        }, "r1", client.transport)
        assert [o.read() for o in outputs] == [PNG] * 4
        saved = outputs[0].save(tmp_path / "out")
        assert saved.read_bytes() == PNG and outputs[0].to_pil().size == (1, 1)
        with pytest.raises(rc.ServerError, match="redirect"):  # an API call redirected: not followed at all
            run_sync(client.transport.status("r1"))
    finally:
        client.close()
    assert {r["path"] for r in cdn.requests} == {"/o/cdn.png", "/o/redirected.png"}
    for request in cdn.requests:
        assert _auth(request) is None, request["path"]
        assert_no_leak(f"the headers sent to another host ({request['path']})", json.dumps(request["headers"]))
    by_path = {r["path"]: r for r in api.requests}
    assert _auth(by_path["/o/own.mp4"]) == f"Bearer {TOKEN}"  # control: the API's own host gets it
    assert _auth(by_path["/v1/requests/r1/status"]) == f"Bearer {TOKEN}"
    assert _auth(by_path[f"/redirect?to={cdn.url}/o/redirected.png"]) == f"Bearer {TOKEN}"
    assert _auth(by_path["/o/alias.png"]) is None  # not the configured origin: no token


def test_a_server_echoing_the_token_does_not_put_it_into_errors(hosts: tuple[Any, Any], isolated_home: Path) -> None:
    """A (hostile or buggy) API that echoes the Authorization header back in its error bodies."""
    api, _ = hosts

    def echo(handler: Any) -> tuple[int, dict[str, str], bytes]:
        auth = handler.headers.get("Authorization", "")
        path = urlsplit(handler.path).path
        status = {"/v1/models/m/a": 401, "/v1/models/m/b": 422, "/v1/models/m/c": 400,
                  "/v1/requests/r1/status": 404, "/v1/requests/r2/status": 500}.get(path, 403)
        body = {"error_code": {401: 400004, 422: 422001, 404: 404001}.get(status, 400000),
                "error_message": f"you sent {auth!r}", "detail": [{"loc": ["body", auth], "msg": f"bad {auth}"}]}
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()

    api.route = echo
    client = rc.Client(token=TOKEN, base_url=api.url, retry=RetryPolicy(attempts=2, base_delay=0.01))
    errors: list[BaseException] = []
    try:
        for model in ("m/a", "m/b", "m/c", "m/d"):
            with pytest.raises(rc.APIError) as caught:
                client.submit(model, {"prompt": "x"}, validate=False)
            errors.append(caught.value)
        for request_id in ("r1", "r2"):
            with pytest.raises(rc.APIError) as caught:
                run_sync(client.transport.status(request_id))
            errors.append(caught.value)
    finally:
        client.close()
    assert [type(e).__name__ for e in errors] == ["AuthError", "ServerValidationError", "APIError", "AuthError",
                                                  "NotFoundError", "ServerError"]
    assert all(TOKEN in json.dumps(r["headers"]) for r in api.requests)  # control: the server did get it to echo
    assert "you sent 'Bearer ***'" in str(errors[0])
    for error in errors:
        for text in exception_texts(error):
            assert_no_leak(f"{type(error).__name__}'s text", text)
    journal = b"".join(f.read_bytes() for f in sorted(isolated_home.glob("journal.sqlite3*")))
    assert b"you sent" in journal  # the rejected submits are on record, scrubbed
    assert_no_leak("the journal database", journal)


def test_an_echoed_token_in_a_submit_answer_without_request_id_is_scrubbed(hosts: tuple[Any, Any]) -> None:
    api, _ = hosts

    def echo(handler: Any) -> tuple[int, dict[str, str], bytes]:
        body = {"echo": handler.headers.get("Authorization", "")}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    api.route = echo
    client = rc.Client(token=TOKEN, base_url=api.url)
    try:
        with pytest.raises(rc.SubmitUncertainError) as caught:
            client.submit("m/a", {"prompt": "x"}, validate=False)
    finally:
        client.close()
    for text in exception_texts(caught.value):
        assert_no_leak("SubmitUncertainError's text", text)
