"""Money, tokens and memory under hostile servers (issue 13): small HTTP servers on 127.0.0.1 that redirect, echo
the Authorization header, answer with gateway pages, gzip bombs, endless bodies and slow drips.

Each test names the class of guarantee it backs (docs/threat-model.md lists them). No wall-clock assertions: the
deadlines are settings, made small here, and the tests assert states, counts and orders.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import math
import socket
import sqlite3
import threading
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb._http import RetryPolicy
from runcomfy_nb._journal import Journal, JournalError
from runcomfy_nb._loop import run_sync
from runcomfy_nb._outputs import parse_outputs
from runcomfy_nb.config import settings

TOKEN = "rc-live-9d8e7f6a5b4c3d2e1f0a"  # what a real token looks like; never seen by a real server
WAN = "wan-ai/wan-2-5/text-to-image"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63fccfc0"
                    "500f000485018084a98c210000000049454e44ae426082")
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


# --- a small programmable HTTP server ------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def _go(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": urlsplit(self.path).path,
                                     "headers": dict(self.headers.items()), "body": body})
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a cap, a deadline)
            self.server.route(self, body)

    do_GET = do_POST = do_HEAD = _go

    def reply(self, status: int, payload: bytes | dict[str, Any] | str = b"", headers: dict[str, str] | None = None,
              ) -> None:
        if isinstance(payload, dict):
            payload, headers = json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
        elif isinstance(payload, str):
            payload = payload.encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def stream(self, chunks: Iterator[bytes], headers: dict[str, str] | None = None, status: int = 200) -> None:
        """A body without a length, written until the generator ends or the client hangs up."""
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
            self.wfile.flush()
            self.server.sent_bytes += len(chunk)
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, route: Callable[[_Handler, bytes], None], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.route = route
        self.requests: list[dict[str, Any]] = []
        self.sent_bytes = 0
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def posts(self) -> int:
        return sum(1 for r in self.requests if r["method"] == "POST" and r["path"].startswith("/v1/models/"))

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def servers() -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def make(route: Callable[[_Handler, bytes], None], port: int = 0) -> Server:
        made.append(Server(route, port))
        return made[-1]

    yield make
    for server in made:
        server.stop()


def fake_api(output: Any = None, *, request_id: str = "req-1", status_body: dict[str, Any] | None = None,
             result_body: dict[str, Any] | None = None, cancel_body: dict[str, Any] | None = None,
             extra: Callable[[_Handler, bytes], bool] | None = None) -> Callable[[_Handler, bytes], None]:
    """An API that accepts every submit and says the job completed with `output` (or the bodies given)."""
    counter = {"n": 0}

    def route(handler: _Handler, body: bytes) -> None:
        if extra is not None and extra(handler, body):
            return
        path = urlsplit(handler.path).path
        if handler.command == "POST" and path.startswith("/v1/models/"):
            counter["n"] += 1
            rid = request_id if counter["n"] == 1 else f"{request_id}-{counter['n']}"
            handler.reply(200, {"request_id": rid})
        elif path.endswith("/status"):
            handler.reply(200, status_body or {"status": "completed"})
        elif path.endswith("/result"):
            handler.reply(200, result_body or {"status": "succeeded", "output": output})
        elif path.endswith("/cancel"):
            handler.reply(200, cancel_body or {"outcome": "cancelled"})
        else:
            handler.reply(404, {"error_code": 404001, "error_message": "not found"})

    return route


def make_client(server: Server, **kwargs: Any) -> rc.Client:
    return rc.Client(token=TOKEN, base_url=server.url, retry=kwargs.pop("retry", FAST), **kwargs)


def journal_bytes(home: Path) -> bytes:
    return b"".join(f.read_bytes() for f in sorted(home.glob("journal.sqlite3*")))


def render_everything(error: BaseException) -> str:
    """Every way a notebook may show an error: str, repr, args, the plain traceback, the traceback with every
    frame's locals (capture_locals=True), and IPython's `%xmode Verbose` formatting (which prints locals too)."""
    from IPython.core.ultratb import VerboseTB

    tb = error.__traceback__  # from the library's frames on: the test's own frame holds the token on purpose
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    error = error.with_traceback(tb)
    texts = [str(error), repr(error), repr(error.args), repr(getattr(error, "body", None)),
             "".join(traceback.format_exception(error)),
             "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())]
    try:
        verbose = VerboseTB(theme_name="nocolor", include_vars=True)
    except TypeError:  # IPython 8 names its colours differently
        verbose = VerboseTB(color_scheme="NoColor", include_vars=True)
    texts.append(verbose.text(type(error), error, error.__traceback__))
    return "\n".join(texts)


# --- class 1: a redirected submit is never sent again; redirects carry no token ------------------------------------

@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("hop", ["refused", "429", "other-host"])
def test_a_redirected_submit_is_never_sent_again(servers: Any, isolated_home: Path, code: int, hop: str) -> None:
    other = servers(lambda h, b: h.reply(200, {"request_id": "stolen"}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}/v1/models/{WAN}"

    def route(handler: _Handler, body: bytes) -> None:
        if urlsplit(handler.path).path == "/busy":
            handler.reply(429, {"error_code": 429001, "error_message": "slow down"}, {"Retry-After": "0"})
            return
        target = {"refused": refused, "429": "/busy", "other-host": f"{other.url}/v1/models/{WAN}"}[hop]
        handler.reply(code, b"", {"Location": target})

    api = servers(route)
    client = make_client(api)
    try:
        with pytest.raises(rc.SubmitUncertainError) as caught:
            client.submit(WAN, prompt="once", validate=False)
    finally:
        client.close()
    assert api.posts() == 1  # received once, never re-sent, the redirect not followed
    assert other.requests == []  # the token never went to the other host
    assert f"HTTP {code}" in str(caught.value) and "NOT sent again" in str(caught.value)
    (row,) = rc.jobs()
    assert row["status"] == "uncertain"


# --- class 2: only a proof of rejection says "no job" --------------------------------------------------------------

GATEWAY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"


@pytest.mark.parametrize("status, body, kind, journal_status", [
    (502, GATEWAY_PAGE, rc.SubmitUncertainError, "uncertain"),
    (504, GATEWAY_PAGE.replace("502 Bad", "504 Gateway"), rc.SubmitUncertainError, "uncertain"),
    (500, {"error_code": 500000, "error_message": "internal"}, rc.SubmitUncertainError, "uncertain"),
    (403, "<html>Forbidden by the firewall</html>", rc.SubmitUncertainError, "uncertain"),  # not the API's JSON
    (422, {"error_code": 422001, "error_message": "prompt: required"}, rc.ServerValidationError, "rejected"),
    (402, {"error_code": 400002, "error_message": "insufficient balance"}, rc.InsufficientBalanceError, "rejected"),
])
def test_a_gateway_answer_after_the_job_was_created_is_uncertain(servers: Any, status: int, body: Any, kind: type,
                                                                 journal_status: str) -> None:
    created: list[str] = []

    def route(handler: _Handler, payload: bytes) -> None:
        created.append("job")  # the API made the job; the gateway in front lost the answer
        handler.reply(status, body, {"Content-Type": "text/html"} if isinstance(body, str) else None)

    api = servers(route)
    client = make_client(api)
    try:
        with pytest.raises(kind) as caught:
            client.submit(WAN, prompt="x", validate=False)
    finally:
        client.close()
    assert api.posts() == 1
    (row,) = rc.jobs()
    assert row["status"] == journal_status
    if kind is rc.SubmitUncertainError:
        started, ended = caught.value.window
        assert started <= ended and "UTC" in str(caught.value) and "dashboard" in str(caught.value)


def test_a_429_on_submit_is_a_refusal_and_is_sent_again(servers: Any) -> None:
    answers = iter([(429, {"error_code": 429001, "error_message": "busy"}), (200, {"request_id": "r-ok"})])

    def route(handler: _Handler, body: bytes) -> None:
        if handler.command == "POST" and "/v1/models/" in handler.path:
            status, payload = next(answers)
            handler.reply(status, payload, {"Retry-After": "0"})
        else:
            fake_api({"image": "https://cdn.invalid/x.png"})(handler, body)

    api = servers(route)
    client = make_client(api)
    try:
        job = client.submit(WAN, prompt="x", validate=False)
        assert job.request_id == "r-ok" and api.posts() == 2
        job.wait(timeout=60)
    finally:
        client.close()


# --- class 3: the token never leaks through echoes or tracebacks ---------------------------------------------------

def test_an_echoing_server_never_gets_the_token_into_anything_shown_or_kept(servers: Any, isolated_home: Path,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    """The server echoes the Authorization header in a failed job's error, an unknown status, a cancel outcome and
    error bodies — once 290 characters in, where a 300-character clip would cut the token in half."""
    pad = "x" * 290

    def route(handler: _Handler, body: bytes) -> None:
        echo = handler.headers.get("Authorization", "")
        path = urlsplit(handler.path).path
        if path == f"/v1/models/{WAN}":
            handler.reply(200, {"request_id": "r-fail"})
        elif path == "/v1/models/m/auth":
            handler.reply(401, {"error_code": 400004, "error_message": pad + echo, "echo": {echo: [echo]}})
        elif path == "/v1/models/m/gateway":
            handler.reply(502, f"<html>{pad}{echo}</html>", {"Content-Type": "text/html"})
        elif path == "/v1/requests/r-fail/status":
            handler.reply(200, {"status": "completed"})
        elif path == "/v1/requests/r-fail/result":
            handler.reply(200, {"status": "failed", "error": [{"errorCode": 1, "error": pad + echo,
                                                               "debugInfo": echo}]})
        elif path == "/v1/requests/r-odd/status":
            handler.reply(200, {"status": f"weird {echo}"})
        elif path == "/v1/requests/r-odd/cancel":
            handler.reply(200, {"outcome": f"refused for {echo}"})
        else:
            handler.reply(404, {"error_code": 404001, "error_message": echo})

    api = servers(route)
    client = make_client(api)
    caplog.set_level(logging.DEBUG, logger="runcomfy_nb")
    errors: list[BaseException] = []
    try:
        job = client.submit(WAN, prompt="x", validate=False)
        with pytest.raises(rc.JobFailedError) as failed:
            job.wait(timeout=60)
        errors.append(failed.value)
        for model in ("m/auth", "m/gateway"):
            with pytest.raises(rc.APIError) as caught:
                client.submit(model, {"prompt": "x"}, validate=False)
            errors.append(caught.value)
        odd = client.attach("r-odd", WAN)
        assert odd.cancel() is False
        deadline = time.monotonic() + 30
        while not odd.warnings and time.monotonic() < deadline:  # the unknown status reaches the warnings
            time.sleep(0.05)
        with pytest.raises(rc.NotFoundError) as missing:
            run_sync(client.transport.status("r-gone"))
        errors.append(missing.value)
        from runcomfy_nb._render import job_html
        from runcomfy_nb.widgets import job_state

        shown = [job.error or "", job_html(job), job_html(odd), odd.cancel_note, repr(odd.warnings),
                 json.dumps(job_state(odd, {}), default=str), json.dumps(job_state(job, {}), default=str)]
        odd_status_seen = any("weird" in w for w in odd.warnings)
    finally:
        client.close()
    assert all(TOKEN in json.dumps(r["headers"]) for r in api.requests)  # control: the server had it to echo
    assert pad[:50] in (job.error or "") and "Bearer ***" in (job.error or "")
    assert odd_status_seen and "refused for bearer ***" in odd.cancel_note
    assert isinstance(errors[1], rc.AuthError) and isinstance(errors[2], rc.SubmitUncertainError)
    for text in shown:
        assert TOKEN not in text
    for error in errors:
        assert TOKEN not in render_everything(error), type(error).__name__
    assert TOKEN not in json.dumps(errors[1].body)
    assert TOKEN.encode() not in journal_bytes(isolated_home)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_no_error_shows_the_token_in_verbose_tracebacks(servers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every error the client raises, rendered with captured locals and IPython's Verbose mode: no token, even
    though every request carried it (the Authorization header lives in httpx's Headers and our Secret only)."""
    def route(handler: _Handler, body: bytes) -> None:
        path = urlsplit(handler.path).path
        if path.endswith("/m/redirect"):
            handler.reply(307, b"", {"Location": "/elsewhere"})
        elif path.endswith("/m/bomb"):
            handler.stream(iter([b"{" * 64] * 100000), {"Content-Type": "application/json"})
        elif path.endswith("/m/drop"):
            handler.connection.shutdown(socket.SHUT_RDWR)
        elif path.endswith("/r1/status"):
            handler.reply(500, {"error_code": 500000, "error_message": "down"})
        else:
            handler.reply(401, {"error_code": 400004, "error_message": "expired"})

    api = servers(route)
    monkeypatch.setattr(settings, "max_response_bytes", 64 * 1024)
    client = make_client(api)
    errors: list[BaseException] = []
    try:
        for model in ("m/redirect", "m/bomb", "m/drop", "m/auth"):
            with pytest.raises(rc.RunComfyError) as caught:
                client.submit(model, {"prompt": "x"}, validate=False)
            errors.append(caught.value)
        for call in (lambda: client.transport.status("r1"), lambda: client.transport.cancel("r2")):
            with pytest.raises(rc.RunComfyError) as caught:
                run_sync(call())
            errors.append(caught.value)
        monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN + "\n\u00a0x")
        with pytest.raises(rc.ConfigError) as caught:
            rc.Client()
        errors.append(caught.value)
        with pytest.raises(rc.ConfigError) as caught:
            rc.Client(token=TOKEN + "\x00", base_url=api.url)
        errors.append(caught.value)
    finally:
        client.close()
    assert [type(e).__name__ for e in errors] == ["SubmitUncertainError", "SubmitUncertainError",
                                                  "SubmitUncertainError", "AuthError", "ServerError", "AuthError",
                                                  "ConfigError", "ConfigError"]
    for error in errors:
        rendered = render_everything(error)
        assert "Traceback" in rendered and TOKEN not in rendered, type(error).__name__


# --- class 4: the token goes to the configured base only ----------------------------------------------------------

def _journal_row(request_id: str, base_url: str, simulator: bool) -> None:
    from runcomfy_nb._journal import default_journal

    journal = default_journal()
    journal.record_submitting(f"local-{request_id}", WAN, base_url, simulator, {"prompt": "x"})
    journal.update(f"local-{request_id}", request_id=request_id, status="in_queue")


def test_attaching_a_simulator_job_never_sends_the_real_token(servers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator stopped; something else now listens on its old port; a real token is in the environment."""
    squatter = servers(fake_api({"image": "https://cdn.invalid/x.png"}, request_id="sim-job"))
    _journal_row("sim-job", squatter.url, simulator=True)
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    job = rc.attach("sim-job")
    job.wait(timeout=60)
    assert squatter.requests, "the job was polled"
    for request in squatter.requests:
        assert request["headers"].get("Authorization") == f"Bearer {rc.config.SIM_TOKEN}"
        assert TOKEN not in json.dumps(request["headers"])


def test_attaching_a_job_of_another_base_needs_that_bases_credentials(servers: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    old = servers(fake_api({"image": "https://cdn.invalid/x.png"}, request_id="elsewhere"))
    _journal_row("elsewhere", old.url, simulator=False)
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)  # configured for the public API, not for `old`
    with pytest.raises(rc.RunComfyError, match="No credentials for") as caught:
        rc.attach("elsewhere")
    assert old.url in str(caught.value) and TOKEN not in render_everything(caught.value)
    client = rc.Client()  # the environment's client (the public API) refuses the other base's job too
    with pytest.raises(rc.ConfigError, match="was submitted to"):
        client.attach("elsewhere")
    assert old.requests == []
    # With that base configured explicitly (a local proxy, plain http on loopback) it works.
    monkeypatch.setenv("RUNCOMFY_API_BASE", old.url)
    assert rc.attach("elsewhere").wait(timeout=60)[0].url == "https://cdn.invalid/x.png"
    assert {r["headers"]["Authorization"] for r in old.requests} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize("base", ["http://example.com", "http://10.0.0.8:8080", "ftp://127.0.0.1", "https://"])
def test_a_token_is_never_sent_in_clear_to_another_machine(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(rc.ConfigError, match="only sent over https"):
        rc.Client(token=TOKEN, base_url=base)
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    monkeypatch.setenv("RUNCOMFY_API_BASE", base)
    with pytest.raises(rc.ConfigError, match="only sent over https"):
        rc.Client()


# --- class 5: token shapes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("pasted", [TOKEN + "\n", "  " + TOKEN + "  ", TOKEN + "\r\n", "\t" + TOKEN,
                                    TOKEN + "\u00a0"])  # a non-breaking space copied from a web page
def test_surrounding_whitespace_is_stripped(servers: Any, monkeypatch: pytest.MonkeyPatch, pasted: str) -> None:
    api = servers(fake_api({"image": "https://cdn.invalid/x.png"}))
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", pasted)
    monkeypatch.setenv("RUNCOMFY_API_BASE", api.url)
    for client in (rc.Client(retry=FAST), rc.Client(token=pasted, base_url=api.url, retry=FAST)):
        try:
            client.submit(WAN, prompt="x", validate=False).wait(timeout=60)
        finally:
            client.close()
    assert [r["headers"]["Authorization"] for r in api.requests if r["method"] == "POST"] == [f"Bearer {TOKEN}"] * 2


@pytest.mark.parametrize("bad", [TOKEN[:10] + "\n" + TOKEN[10:], TOKEN[:8] + "\u00a0" + TOKEN[8:], TOKEN[:5] + " " + TOKEN[5:],
                                 TOKEN + "\x7f", "é" + TOKEN, TOKEN + "\r\nX-Evil: 1"])
def test_a_token_with_control_or_non_ascii_characters_is_refused_before_sending(
        servers: Any, monkeypatch: pytest.MonkeyPatch, isolated_home: Path, bad: str) -> None:
    api = servers(fake_api({"image": "https://cdn.invalid/x.png"}))
    with pytest.raises(rc.ConfigError, match="token is not usable") as direct:
        rc.Client(token=bad, base_url=api.url)
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", bad)
    monkeypatch.setenv("RUNCOMFY_API_BASE", api.url)
    with pytest.raises(rc.ConfigError, match="token is not usable") as from_env:
        rc.submit(WAN, prompt="x")
    assert api.requests == [] and rc.jobs() == []  # nothing sent, nothing "uncertain"
    for error in (direct.value, from_env.value):
        assert not isinstance(error, rc.SubmitUncertainError)
        rendered = render_everything(error)
        assert bad not in rendered and bad.strip() not in rendered and TOKEN[5:20] not in rendered


# --- class 6: memory and time bounds -----------------------------------------------------------------------------

def _gzip_bomb(decoded_mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    zeros = b"0" * (1024 * 1024)
    return b"".join([*(packer.compress(zeros) for _ in range(decoded_mib)), packer.flush()])


def test_a_gzip_bomb_is_stopped_at_the_decoded_cap(servers: Any) -> None:
    bomb = _gzip_bomb(512)  # ~0.5 MiB on the wire, 512 MiB decoded
    assert len(bomb) < 1024 * 1024

    def route(handler: _Handler, body: bytes) -> None:
        handler.reply(200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    api = servers(route)
    client = make_client(api, retry=RetryPolicy(attempts=1))
    tracemalloc.start()
    try:
        with pytest.raises(rc.ServerError, match="max_response_bytes"):
            run_sync(client.transport.status("r1"), timeout=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
    assert peak < 3 * settings.max_response_bytes  # 8 MiB cap: the 512 MiB never exist in memory


def test_an_endless_status_body_is_cut_at_the_cap(servers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_response_bytes", 256 * 1024)

    def endless() -> Iterator[bytes]:
        yield b'{"status": "in_queue", "pad": "'
        while True:
            yield b"x" * 16384

    api = servers(lambda handler, body: handler.stream(endless(), {"Content-Type": "application/json"}))
    client = make_client(api, retry=RetryPolicy(attempts=1))
    try:
        with pytest.raises(rc.ServerError, match="larger than 262144 bytes"):
            run_sync(client.transport.status("r1"), timeout=120)
    finally:
        client.close()


def _dripping() -> Iterator[bytes]:
    yield b'{"request_id": "'
    while True:
        time.sleep(0.05)
        yield b"d"


def test_submit_has_an_overall_deadline_against_a_slow_drip(servers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "submit_deadline", 1.0)
    api = servers(lambda handler, body: handler.stream(_dripping(), {"Content-Type": "application/json"}))
    client = make_client(api)
    try:
        with pytest.raises(rc.SubmitUncertainError, match="submit_deadline"):
            client.start(WAN, {"prompt": "x"}, validate=False)._accepted.result(timeout=60)  # hang-catcher only
    finally:
        client.close()
    assert api.posts() == 1
    (row,) = rc.jobs()
    assert row["status"] == "uncertain"


def test_a_status_request_has_a_deadline_against_a_slow_drip(servers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "request_deadline", 1.0)
    api = servers(lambda handler, body: handler.stream(_dripping(), {"Content-Type": "application/json"}))
    client = make_client(api, retry=RetryPolicy(attempts=2, base_delay=0.01))
    try:
        with pytest.raises(rc.ServerError, match="request_deadline"):
            run_sync(client.transport.status("r1"), timeout=60)
    finally:
        client.close()


def test_checking_an_output_is_still_there_never_reads_its_body(servers: Any) -> None:
    """Reuse asks whether an earlier output still answers: HEAD, else (HEAD not allowed) a one-byte Range GET.
    This server refuses HEAD and answers the GET, ignoring Range, with a body that never ends: the check returns
    (so it did not read to the end) and the connection is dropped with the body unread."""
    def route(handler: _Handler, body: bytes) -> None:
        if handler.command == "HEAD":
            handler.reply(405, headers={"Allow": "GET"})
        else:
            handler.stream(iter(lambda: b"\0" * 65536, None))  # endless

    server = servers(route)
    client = make_client(server)
    try:
        assert run_sync(client.transport.output_answers(f"{server.url}/out/a.png"), timeout=60) is True
        gone = servers(lambda handler, body: handler.reply(404 if handler.command == "HEAD" else 500, "gone"))
        assert run_sync(client.transport.output_answers(f"{gone.url}/out/a.png"), timeout=60) is False
    finally:
        client.close()
    assert [(r["method"], r["headers"].get("Range")) for r in server.requests] == [("HEAD", None), ("GET", "bytes=0-0")]
    assert [r["method"] for r in gone.requests] == ["HEAD"]  # a 404 answers it: no GET


def test_outputs_are_streamed_to_disk_with_a_size_cap_and_a_deadline(servers: Any, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    big = b"\x89PNG" + bytes(range(256)) * 4096 * 24  # 24 MiB

    def route(handler: _Handler, body: bytes) -> None:
        path = urlsplit(handler.path).path
        if path == "/big.png":
            handler.reply(200, big, {"Content-Type": "image/png"})
        elif path == "/bomb.png":
            handler.reply(200, _gzip_bomb(64), {"Content-Type": "image/png", "Content-Encoding": "gzip"})
        elif path == "/drip.png":
            handler.stream(_dripping(), {"Content-Type": "image/png"})

    cdn = servers(route)
    client = make_client(cdn)
    big_out, bomb_out, drip_out = parse_outputs({"images": [f"{cdn.url}/big.png", f"{cdn.url}/bomb.png",
                                                            f"{cdn.url}/drip.png"]}, "r1", client.transport)
    try:
        tracemalloc.start()
        saved = big_out.save(tmp_path / "kept")  # streamed: never whole in memory
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert saved.read_bytes() == big and peak < len(big) // 3
        monkeypatch.setattr(settings, "max_read_bytes", 1024 * 1024)
        with pytest.raises(rc.ServerError, match="max_read_bytes") as too_big:
            big_out.__class__.read(parse_outputs(f"{cdn.url}/big.png", "r1", client.transport)[0])
        assert too_big.value.request_id == "r1"
        monkeypatch.setattr(settings, "max_download_bytes", 8 * 1024 * 1024)
        with pytest.raises(rc.ServerError, match="max_download_bytes"):
            bomb_out.save(tmp_path / "bomb")
        monkeypatch.setattr(settings, "download_deadline", 1.0)
        with pytest.raises(rc.ServerError, match="download_deadline"):
            drip_out.save(tmp_path / "drip")
        with pytest.raises(rc.ServerError, match="download_deadline"):
            drip_out.read()
    finally:
        client.close()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [saved.name]  # no partial files left


# --- class 7: auto-save never holds a job hostage ----------------------------------------------------------------

def test_auto_save_runs_after_completion_with_its_own_deadline(servers: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "autosave_dir", str(tmp_path / "kept"))
    # The dripping output never ends, so any deadline stops it; 8 s leaves the good one time to be kept (with its
    # thumbnail and metadata) on a busy machine: at 1 s a loaded CI box ran out before the good one was written.
    monkeypatch.setattr(settings, "autosave_deadline", 8.0)

    def drip(handler: _Handler, body: bytes) -> bool:
        if handler.path.startswith("/o/"):
            if "good" in handler.path:
                handler.reply(200, PNG, {"Content-Type": "image/png"})
            else:
                handler.stream(_dripping(), {"Content-Type": "image/png"})
            return True
        return False

    api = servers(fake_api(None, extra=drip))
    api.route = fake_api({"images": [f"{api.url}/o/good.png", f"{api.url}/o/forever.png"]}, extra=drip)
    client = make_client(api)
    seen: list[tuple[str, str]] = []
    try:
        job = client.start(WAN, {"prompt": "x"}, validate=False)
        job.on_change(lambda j: seen.append((j.status, j.save_state)))
        outputs = job.wait(timeout=60)
    finally:
        client.close()
    assert ("completed", "saving") in seen  # completed (and shown) first, saving after
    assert seen.index(("completed", "saving")) < len(seen) - 1
    assert job.status == "completed" and job.save_state.startswith("save failed")
    assert "autosave_deadline" in job.save_state and any("auto-save failed" in w for w in job.warnings)
    saved = outputs[0].saved_path
    assert saved is not None  # the same picture; the kept PNG also carries its inputs (a text chunk)
    assert Image.open(saved).tobytes() == Image.open(io.BytesIO(PNG)).tobytes()
    assert rc.load_params(saved).model_id == WAN
    assert outputs[1].saved_path is None
    row = rc.jobs()[0]
    assert row["status"] == "completed" and row["saved"] == [str(outputs[0].saved_path)]
    assert "save failed" in repr(job)
    from runcomfy_nb._render import job_html

    assert "auto-save failed" in job_html(job)  # visible in the notebook's static copy too


# --- class 8: nothing is dropped silently -----------------------------------------------------------------------

def test_outputs_in_other_shapes_are_kept_and_the_rest_warned_about(servers: Any) -> None:
    output = {"images": [{"url": "https://cdn.invalid/a.png", "content_type": "image/png"}, 17],
              "video": {"url": "https://cdn.invalid/b.mp4"}, "file": "https://cdn.invalid/c.bin",
              "meta": {"seed": 3}}
    api = servers(fake_api(output))
    client = make_client(api)
    try:
        job = client.submit(WAN, prompt="x", validate=False)
        outputs = job.wait(timeout=60)
    finally:
        client.close()
    assert [o.url for o in outputs] == ["https://cdn.invalid/b.mp4", "https://cdn.invalid/a.png",
                                        "https://cdn.invalid/c.bin"]
    assert [o.kind for o in outputs] == ["video", "image", "file"]
    (warning,) = job.warnings
    assert "2 output item(s) not understood" in warning and "images: int" in warning and "meta" in warning
    assert json.loads(rc.jobs()[0]["raw_result"]) == output


@pytest.mark.parametrize("output, urls", [
    ("https://cdn.invalid/one.png", ["https://cdn.invalid/one.png"]),
    (["https://cdn.invalid/1.png", {"url": "https://cdn.invalid/2.png"}], ["https://cdn.invalid/1.png",
                                                                          "https://cdn.invalid/2.png"]),
    ({"url": "https://cdn.invalid/only.mp4"}, ["https://cdn.invalid/only.mp4"]),
])
def test_bare_strings_lists_and_url_objects_are_outputs(output: Any, urls: list[str]) -> None:
    skipped: list[str] = []
    assert [o.url for o in parse_outputs(output, "r1", None, skipped)] == urls and skipped == []


@pytest.mark.parametrize("timeout", [math.nan, math.inf, -math.inf, "5"])
def test_non_finite_timeouts_are_refused(client: Any, timeout: Any) -> None:
    job = client.submit(WAN, prompt="x")
    for call in (lambda: job.wait(timeout), lambda: run_sync(job.wait_async(timeout)), lambda: job.cancel(timeout)):
        with pytest.raises(ValueError, match="timeout: must be a finite number"):
            call()
    job.wait(timeout=60)


# --- class 9: saved files never overwrite each other -------------------------------------------------------------

def test_request_ids_sharing_16_characters_get_their_own_files(servers: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "autosave_dir", str(tmp_path / "kept"))
    shared = "0123456789abcdef"  # request ids may be up to 128 characters; these share their first 16

    def serve_png(handler: _Handler, body: bytes) -> bool:
        if handler.path.startswith("/o/"):
            handler.reply(200, PNG + handler.path.encode(), {"Content-Type": "image/png"})
            return True
        return False

    api = servers(lambda h, b: None)
    api.route = fake_api({"image": f"{api.url}/o/out.png"}, request_id=shared + "-first", extra=serve_png)
    client = make_client(api)
    try:
        first = client.submit(WAN, prompt="a", validate=False)
        second = client.submit(WAN, prompt="b", validate=False)
        assert second.request_id == shared + "-first-2"
        paths = [first.wait(timeout=60)[0].saved_path, second.wait(timeout=60)[0].saved_path]
    finally:
        client.close()
    assert paths[0] != paths[1] and all(p is not None and p.exists() for p in paths)
    rows = {r["request_id"]: r["saved"] for r in rc.jobs()}
    assert rows[first.request_id] == [str(paths[0])] and rows[second.request_id] == [str(paths[1])]


# --- class 10: the journal is written before the job is trusted --------------------------------------------------

def _fill(journal: Journal) -> None:
    """Make the journal's database full (SQLite's own max_page_count): the next growth fails as on a full disk."""
    with journal._db() as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
    for index in range(10000):
        try:
            with journal._db() as db:
                db.execute("INSERT INTO jobs (local_id, model_id, base_url, inputs, status, created_at, updated_at) "
                           "VALUES (?, 'filler', '-', '{}', 'rejected', 0, 0)", (f"filler-{index}-" + "f" * 200,))
        except sqlite3.OperationalError as error:
            assert "full" in str(error)
            return
    raise AssertionError("the journal never filled up")


def test_a_journal_that_cannot_record_keeps_the_request_id_and_retries(servers: Any, isolated_home: Path) -> None:
    filled = threading.Event()

    def answer_once_full(handler: _Handler, body: bytes) -> bool:
        if handler.command == "POST":
            filled.wait(30)  # the API answers only once the disk is full: no race with _fill()
        return False

    api = servers(fake_api({"image": "https://cdn.invalid/x.png"}, request_id="r-" + "k" * 120,
                           extra=answer_once_full))
    journal = Journal(isolated_home / "journal.sqlite3")
    client = make_client(api, journal=journal)
    try:
        job = client.start(WAN, {"prompt": "x"}, validate=False)  # the "submitting" row is written...
        _fill(journal)  # ...then the disk fills up before the request_id comes back
        filled.set()
        with pytest.raises(sqlite3.OperationalError):
            journal.update(job.local_id, request_id="probe-" + "p" * 4000)
        job._accepted.result(timeout=60)
        deadline = time.monotonic() + 60
        while not job.warnings and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("cannot record" in w and job.request_id in w for w in job.warnings)  # loudly
        assert job._journal_pending.get("request_id") == job.request_id  # kept in memory
        with journal._db() as db:  # space returns
            db.execute("PRAGMA max_page_count = 1073741823")
            db.execute("DELETE FROM jobs WHERE model_id = 'filler'")
        while job._journal_pending and time.monotonic() < deadline:
            time.sleep(0.05)
        row = journal.get(job.request_id)
        assert row is not None and row["local_id"] == job.local_id
        with pytest.raises(JournalError, match="Nothing was sent"):  # a new submit is refused while full
            _fill(journal)
            client.submit(WAN, prompt="y", validate=False)
        assert api.posts() == 1
    finally:
        client.close()


def test_a_malformed_journal_row_does_not_break_listing(isolated_home: Path) -> None:
    from runcomfy_nb._journal import default_journal

    journal = default_journal()
    journal.record_submitting("good", WAN, "https://x.invalid", False, {"prompt": "x"})
    journal.record_submitting("bad", WAN, "https://x.invalid", False, {"prompt": "x"})
    with journal._db() as db:
        db.execute("UPDATE jobs SET inputs = '{not json', outputs = '\"a string\"', saved = '[' WHERE local_id='bad'")
    rows = {r["local_id"]: r for r in rc.jobs()}
    assert rows["good"]["inputs"] == {"prompt": "x"} and "unreadable" not in rows["good"]
    assert rows["bad"]["inputs"] == {} and rows["bad"]["outputs"] == [] and rows["bad"]["saved"] == []
    assert rows["bad"]["unreadable"] == ["inputs", "outputs", "saved"]


# --- class 11: hostile numbers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("model, inputs, field", [
    (WAN, {"prompt": "x", "seed": 10 ** 5000}, "seed"),
    ("ideogram/ideogram-v3/reframe", {"image": "https://example.com/a.png", "resolution": "1024:1024 (1:1)",
                                      "color_palette": {"members": [{"color": "#ffffff", "weight": -10 ** 5000}]}},
     "color_palette"),
    ("ideogram/ideogram-v3/reframe", {"image": "https://example.com/a.png", "resolution": "1024:1024 (1:1)",
                                      "style": {"n": 10 ** 4400}}, "style"),
])
def test_hostile_numbers_give_the_typed_error_naming_the_field(client: Any, sim: Any, model: str,
                                                               inputs: dict[str, Any], field: str) -> None:
    with pytest.raises(rc.InputValidationError) as caught:
        client.submit(model, inputs)
    assert caught.value.field == field and caught.value.rule == "json" and field in str(caught.value)
    assert sim.counters()["submits_received"] == 0


def test_gzip_answers_within_the_cap_still_work(servers: Any) -> None:
    """Control for the decoder: a normal gzip-encoded answer is read as before."""
    body = gzip.compress(json.dumps({"status": "in_progress", "pad": "y" * 50000}).encode())
    api = servers(lambda h, b: h.reply(200, body, {"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    client = make_client(api)
    try:
        assert run_sync(client.transport.status("r1"))["status"] == "in_progress"
    finally:
        client.close()
