"""Hostile input, property-tested (hypothesis + hypothesis-jsonschema) over the five seed schemas.

- Valid inputs generated from each normalised schema (media fields: https / loopback-http URLs, small data: URIs)
  pass `schemas.validate_inputs`, `media.prepare_media` and `Client.check()` unchanged and are sendable as JSON.
- Mutations (wrong types, out-of-range or non-finite numbers, values outside enums, too-long strings, missing
  required fields, unknown keys, non-JSON values) raise `InputValidationError` naming the field — and nothing
  else ever escapes; a submit of them reaches no server (the simulator's `submits_received` stays 0).
- Malformed schemas (a catalog answer is network data) never crash normalisation, validation or the form.
- HTML from schemas, inputs, errors, model ids and URLs is text in the static HTML (render.job_html), and only
  http(s) / data:image|video URLs are ever used as src/href (`is_safe_url`, checked against a browser's reading).
- Saved file names from hostile URLs never leave the target folder (`safe_file_name`, `Output.save()` against a
  real local HTTP server).
- Media inputs other than https URLs, loopback http, data: URIs of the right type within the caps, or readable
  local files of the right type are refused before sending.
- The magic's parser turns hostile cell text into a UsageError, nothing else.
- Hostile API answers (deep JSON, malformed error details, bad catalog entries) end as typed errors.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
import shutil
import string
import tempfile
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from IPython.core.error import UsageError

import runcomfy_nb as rc
from runcomfy_nb import _media as media
from runcomfy_nb import schemas
from runcomfy_nb._job import Job
from runcomfy_nb._loop import run_sync
from runcomfy_nb._outputs import Output, is_safe_url, parse_outputs, safe_file_name
from runcomfy_nb._render import job_html, static_copy
from runcomfy_nb._urls import is_loopback_host
from runcomfy_nb.errors import InputValidationError, MediaInputError
from runcomfy_nb.magics import parse_body, parse_pairs, tokenize

TEST_TOKEN = "rc-test-token-7f3a9c"  # as in conftest.py

# Other tests' background threads (poll jitter, the simulator) use the global `random` while examples are drawn;
# hypothesis warns about that when this module runs after them. It says nothing about these tests.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
PROPERTY = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
MODELS = {m["model_id"]: m["input_schema"] for m in schemas.shipped_models()}
MODEL_IDS = sorted(MODELS)
WAN_ID = "wan-ai/wan-2-5/text-to-image"
DEEP: list[Any] = []
for _ in range(5000):  # deeper than repr() or json.dumps() can go
    DEEP = [DEEP]
PNG_1X1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _defaults(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: p.get("default") for k, p in raw["properties"].items()}


def _fields_named(error: InputValidationError) -> set[str | None]:
    return {e.field for e in error.errors}


# --- strategies -------------------------------------------------------------------------------------------------

URL_CHARS = string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@"
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,10}){1,2}", fullmatch=True)
url_paths = st.lists(st.text(min_size=1, max_size=20).map(lambda s: quote(s, safe="")), max_size=4).map("/".join)
https_urls = st.builds(lambda host, path, query: f"https://{host}/{path}" + (f"?{query}" if query else ""),
                       hosts, url_paths, st.text(alphabet=URL_CHARS, max_size=20))
loopback_urls = st.builds(lambda host, port, path: f"http://{host}:{port}/{path}",
                          st.sampled_from(["127.0.0.1", "localhost", "[::1]", "127.8.9.10"]),
                          st.integers(1, 65535), url_paths)
image_bytes = st.sampled_from([PNG_1X1, b"\xff\xd8\xff\xe0" + b"\0" * 12, b"GIF89a" + b"\0" * 10,
                               b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8])
image_data_uris = st.builds(lambda data, mime: f"data:{mime};base64," + base64.b64encode(data).decode(),
                            image_bytes, st.sampled_from(["image/png", "image/jpeg", "IMAGE/PNG", "image/webp"]))
valid_media = st.one_of(https_urls, loopback_urls, image_data_uris)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)
# Anything a Python caller could pass: JSON plus what is not JSON.
python_values = st.recursive(
    st.one_of(json_scalars, st.floats(), st.binary(max_size=16), st.just(object()), st.just(math.inf),
              st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner), st.frozensets(st.integers(), max_size=3),
                            st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.none()), inner, max_size=3)),
    max_leaves=10)


def _generation_schema(raw: dict[str, Any]) -> dict[str, Any]:
    """The normalised schema, closed (unknown keys are refused), with the media fields taken out (drawn apart)."""
    schema = copy.deepcopy(schemas.normalise(raw))
    schema["additionalProperties"] = False
    for key in schemas.media_fields(raw):
        schema["properties"].pop(key)
    schema["required"] = [k for k in schema.get("required", []) if k in schema["properties"]]
    return schema


def valid_inputs(model_id: str) -> st.SearchStrategy[dict[str, Any]]:
    raw = MODELS[model_id]
    required = set(raw.get("required") or [])
    media_keys = schemas.media_fields(raw)
    choices = {k: valid_media if "default" not in raw["properties"][k] else st.one_of(
        valid_media, st.just(raw["properties"][k]["default"])) for k in media_keys}
    media_part = st.fixed_dictionaries({k: v for k, v in choices.items() if k in required},
                                       optional={k: v for k, v in choices.items() if k not in required})
    return st.tuples(from_schema(_generation_schema(raw)), media_part).map(lambda pair: {**pair[0], **pair[1]})


def _type_ok(value: Any, prop: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator({"type": prop["type"]}).is_valid(value)


def applicable_mutations(model_id: str) -> list[str]:
    raw = MODELS[model_id]
    props = schemas.normalise(raw)["properties"]
    kinds = ["wrong_type", "unknown_key", "not_json"]
    if [k for k, p in props.items() if "minimum" in p or "maximum" in p]:
        kinds.append("out_of_range")
    if [k for k in props if "enum" in props[k]]:
        kinds.append("not_in_enum")
    if [k for k in props if "maxLength" in props[k]]:
        kinds.append("too_long")
    if raw.get("required"):
        kinds.append("missing_required")
    if schemas.media_fields(raw):
        kinds.append("bad_media")
    return kinds


@st.composite
def mutations(draw: st.DrawFn, model_id: str) -> tuple[str, str, dict[str, Any]]:
    """(mutation, field, inputs): a valid input broken in exactly one way, at `field`."""
    raw = MODELS[model_id]
    normal = schemas.normalise(raw)
    props = normal["properties"]
    media_keys = schemas.media_fields(raw)
    inputs = draw(valid_inputs(model_id))
    kind = draw(st.sampled_from(applicable_mutations(model_id)))
    if kind == "wrong_type":
        key = draw(st.sampled_from(sorted(props)))
        value = draw(json_values.filter(lambda v: not _type_ok(v, props[key])))
    elif kind == "unknown_key":
        key = draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in props))
        value = draw(json_values)
    elif kind == "not_json":
        key = draw(st.sampled_from(sorted(props)))
        value = draw(st.sampled_from([math.nan, math.inf, -math.inf, {1: "x"}, {"a": {2, 3}}, ("a", math.nan),
                                      "lone \ud800 surrogate", DEEP, b"bytes", object()]))
    elif kind == "out_of_range":
        key = draw(st.sampled_from(sorted(k for k, p in props.items() if "minimum" in p or "maximum" in p)))
        prop = props[key]
        integral = prop.get("type") == "integer"
        below = st.integers(max_value=math.ceil(prop["minimum"]) - 1) if integral else st.floats(
            max_value=prop["minimum"], exclude_max=True, allow_nan=False, allow_infinity=False)
        above = st.integers(min_value=math.floor(prop["maximum"]) + 1) if integral else st.floats(
            min_value=prop["maximum"], exclude_min=True, allow_nan=False, allow_infinity=False)
        options = ([below] if "minimum" in prop else []) + ([above] if "maximum" in prop else [])
        value = draw(st.one_of(options))
    elif kind == "not_in_enum":
        key = draw(st.sampled_from(sorted(k for k in props if "enum" in props[k])))
        enum = props[key]["enum"]
        value = draw(st.one_of(st.text(max_size=30), st.integers(), st.sampled_from([e.lower() for e in enum if
                                                                                     isinstance(e, str)] or [0]),
                               st.sampled_from([f" {e}" for e in enum])).filter(lambda v: v not in enum))
    elif kind == "too_long":
        key = draw(st.sampled_from(sorted(k for k in props if "maxLength" in props[k])))
        limit = props[key]["maxLength"]
        value = draw(st.text(min_size=limit + 1, max_size=limit + 40))
    elif kind == "missing_required":
        key = draw(st.sampled_from(sorted(normal["required"])))
        inputs.pop(key, None)
        return kind, key, inputs
    else:  # bad_media
        key = draw(st.sampled_from(sorted(media_keys)))
        value = draw(hostile_media)
    inputs[key] = value
    return kind, key, inputs


hostile_media = st.one_of(
    st.sampled_from([
        "http://example.com/cat.png", "http://93.184.216.34/cat.png", "file:///etc/passwd", "FILE:///etc/passwd",
        "javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "ftp://example.com/cat.png",
        "data:text/html,<script>alert(1)</script>", "data:text/html;base64,PHNjcmlwdD4=", "data:video/mp4;base64,AAAA",
        "data:image/png", "data:image/png;base64,", "data:image/png;base64,!!!notbase64!!!",
        "data:image/png;base64,PGh0bWw+PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0PjwvaHRtbD4=",
        "/nonexistent/dir/cat.png", "~no_such_user_rcnb/cat.png", "", "   ", "cat\x00.png", "https://", "https:",
        "http://[::1", "https://[bad/x.png", "http://127.0.0.1:99999/x.png", "http://user@127.0.0.1/x.png",
        "http://evil.example\\@127.0.0.1/x.png", "https://a b.example/x.png", "\x00https://example.com/x.png",
        "blob:https://example.com/uuid", "vbscript:msgbox(1)", "x" * 5000, "/" + "a" * 300 + ".png",
        "http://localhost.evil.example/x.png", "http://127.0.0.1.nip.io/x.png",
    ]),
    st.builds(lambda host, path: f"http://{host}/{path}", hosts, url_paths),
    st.builds(lambda s, rest: f"{s}:{rest}", st.sampled_from(["file", "javascript", "ftp", "gopher", "ws", "blob"]),
              st.text(max_size=30)),
    st.integers(), st.floats(), st.lists(st.integers(), min_size=1, max_size=3), st.dictionaries(st.text(), st.integers()),
)


# --- fixtures ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checker(simulator: Any) -> Iterator[Any]:
    """One client for the module (its schema cache spans hypothesis examples); the simulator serves the catalog."""
    client = rc.Client(token=TEST_TOKEN, base_url=simulator.base_url)
    for model_id in MODEL_IDS:
        assert client.schema(model_id) == MODELS[model_id]  # the catalog's schema is the shipped one
    yield client
    client.close()


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.paths.append(self.path)
        route = self.server.routes.get(urlsplit(self.path).path)
        status, body, ctype = route if route else (200, self.server.body, "image/png")
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def http_server() -> Iterator[Any]:
    """A plain local HTTP server: PNG bytes for any path, or a JSON route set by a test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.paths, server.routes, server.body = [], {}, PNG_1X1
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- valid inputs pass --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_generated_valid_inputs_pass_every_check(model_id: str, checker: Any) -> None:
    raw = MODELS[model_id]
    media_keys = schemas.media_fields(raw)
    seen: list[dict[str, Any]] = []

    @PROPERTY
    @given(valid_inputs(model_id))
    def check(inputs: dict[str, Any]) -> None:
        full = schemas.apply_defaults(raw, inputs)
        prepared = media.prepare_media(media_keys, full, _defaults(raw))
        assert prepared == full  # URLs and data: URIs are sent as they are
        schemas.validate_inputs(raw, prepared)
        assert schemas.check_inputs(raw, prepared) == []
        assert checker.check(model_id, inputs) == prepared
        assert checker.field_errors(model_id, inputs) == {}
        json.dumps(prepared, allow_nan=False, ensure_ascii=False).encode("utf-8")  # what httpx will send
        seen.append(inputs)

    check()
    assert len(seen) >= 50
    for key in media_keys:  # the media strategy really was exercised, each way
        values = [i[key] for i in seen if key in i]
        assert any(v.startswith("https://") for v in values) and any(v.startswith("data:") for v in values)


# --- mutations are refused, naming the field; nothing else escapes ----------------------------------------------

@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_mutated_inputs_are_refused_naming_the_field(model_id: str, checker: Any, simulator: Any) -> None:
    raw = MODELS[model_id]
    media_keys = schemas.media_fields(raw)
    has_default = {k for k, p in raw["properties"].items() if "default" in p}
    before = simulator.counters()["submits_received"]
    kinds_seen: set[str] = set()

    @PROPERTY
    @given(mutations(model_id))
    def check(case: tuple[str, str, dict[str, Any]]) -> None:
        kind, key, inputs = case
        kinds_seen.add(kind)
        # 1. the schema alone (no defaults applied): always refused, at that field
        with pytest.raises(InputValidationError) as caught:
            full = dict(inputs)
            if kind != "bad_media":
                schemas.validate_inputs(raw, full)
            media.prepare_media(media_keys, full, _defaults(raw))
            schemas.validate_inputs(raw, full)
        assert key in _fields_named(caught.value), (kind, str(caught.value))
        assert isinstance(caught.value.rule, str) and str(caught.value)
        if kind == "missing_required" and key in has_default:
            return  # the client fills the schema's default in: then it is valid
        # 2. the client, as a script uses it: refused before anything is sent
        with pytest.raises(InputValidationError) as caught:
            checker.submit(model_id, inputs)
        assert key in _fields_named(caught.value) or caught.value.field == key, (kind, str(caught.value))
        # 3. the form's view of the same values: a message for that field, no exception
        errors = checker.field_errors(model_id, inputs)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())
        if inputs.get(key) is not None:
            assert key in errors, (kind, errors)

    check()
    assert simulator.counters()["submits_received"] == before, "an invalid input reached the server"
    assert kinds_seen == set(applicable_mutations(model_id))


@PROPERTY
@given(model_id=st.sampled_from(MODEL_IDS),
       inputs=st.one_of(st.dictionaries(st.one_of(st.text(max_size=12), st.integers(), st.none()), python_values,
                                        max_size=5),
                        python_values))
def test_arbitrary_python_values_raise_only_input_validation_errors(model_id: str, inputs: Any) -> None:
    """Whatever a caller passes: validated or refused with InputValidationError, never another exception."""
    raw = MODELS[model_id]
    try:
        full = schemas.apply_defaults(raw, inputs)
        prepared = media.prepare_media(schemas.media_fields(raw), full, _defaults(raw))
        schemas.validate_inputs(raw, prepared)
    except InputValidationError as error:
        assert str(error) and error.errors
        return
    json.dumps(prepared, allow_nan=False).encode("utf-8")  # accepted means sendable


def test_pathological_values_are_input_errors_not_crashes(checker: Any) -> None:
    raw = MODELS["ideogram/ideogram-v3/reframe"]
    base = {"image": "https://example.com/cat.png", "resolution": "1024:1024 (1:1)"}
    deep: list[Any] = []
    cursor = deep
    for _ in range(100_000):  # repr() and json.dumps() of this raise RecursionError
        cursor.append([])
        cursor = cursor[0]
    loop: dict[str, Any] = {}
    loop["self"] = loop
    cases = {"seed": deep, "color_palette": deep, "style": loop}
    for key, value in cases.items():
        with pytest.raises(InputValidationError) as caught:
            checker.check("ideogram/ideogram-v3/reframe", {**base, key: value})
        assert caught.value.field == key and caught.value.rule in ("json", "type")
    for inputs in ([1, 2], "prompt=x", None, 42):
        with pytest.raises(InputValidationError):
            checker.check("wan-ai/wan-2-5/text-to-image", inputs)
    with pytest.raises(InputValidationError) as caught:
        schemas.validate_inputs(raw, {**base, 7: "x", None: 1})
    assert {"7", "None"} <= _fields_named(caught.value)
    with pytest.raises(InputValidationError) as caught:  # NaN would pass jsonschema's bounds and break the JSON
        checker.check("bytedance/dreamina-4-0/text-to-image", {"prompt": "x", "scale": math.nan})
    assert caught.value.field == "scale" and caught.value.rule == "json"


# --- hostile schemas (a catalog answer is data from the network) ------------------------------------------------

schema_values = st.recursive(
    st.one_of(json_scalars, st.sampled_from(["float", "image", "string", "integer", "(", "#/nope", "image_uris"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["type", "enum", "minimum", "maximum", "maxLength", "minLength", "pattern", "items", "properties", "required",
         "$ref", "allOf", "format", "validations", "validation_rule", "validation_value", "default", "title",
         "description", "multipleOf", "additionalProperties", "const", "not", "x"]), inner, max_size=5)),
    max_leaves=15)
hostile_schemas = st.one_of(
    st.fixed_dictionaries({"properties": st.dictionaries(st.sampled_from(["prompt", "image", "seed", "a", "608_image"]),
                                                         schema_values, max_size=4)},
                          optional={"required": schema_values, "type": schema_values, "$ref": schema_values}),
    schema_values)


@PROPERTY
@given(raw=hostile_schemas, inputs=st.dictionaries(st.sampled_from(["prompt", "image", "seed", "a", "b"]), json_values,
                                                   max_size=3))
@example(raw={"properties": {"prompt": {"format": []}}}, inputs={})  # an unhashable format (found by hypothesis 6.84)
def test_malformed_schemas_never_crash_validation_or_forms(raw: Any, inputs: dict[str, Any]) -> None:
    normal = schemas.normalise(raw)
    jsonschema.Draft202012Validator.check_schema(normal)  # always a well-formed JSON Schema
    fields = schemas.describe_fields(raw)
    json.dumps(fields, allow_nan=False)  # what the form's `fields` trait syncs
    schemas.media_fields(raw)
    try:
        full = schemas.apply_defaults(raw, inputs)
        schemas.validate_inputs(raw, full)
    except InputValidationError:
        pass


def test_seed_schemas_normalise_to_valid_json_schema_with_every_rule_kept() -> None:
    for model_id, raw in MODELS.items():
        normal = schemas.normalise(raw)
        jsonschema.Draft202012Validator.check_schema(normal)
        for key, prop in raw["properties"].items():
            for keyword in ("enum", "minimum", "maximum", "maxLength", "default", "title", "description"):
                if keyword in prop:
                    assert normal["properties"][key][keyword] == prop[keyword], (model_id, key, keyword)
        assert normal["required"] == raw["required"]


# --- HTML is text; unsafe URLs are never src/href ---------------------------------------------------------------

ALLOWED_TAGS = {"div", "b", "code", "span", "table", "tr", "td", "pre", "a", "img", "video", "style"}
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "\"><svg onload=alert(3)>", "'><iframe src=javascript:alert(4)>",
       "</td></tr></table><script>alert(5)</script>", "&lt;script&gt;", "<a href=\"javascript:alert(6)\">x</a>"]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def browser_scheme(url: str) -> str:
    """How a browser (WHATWG URL parser) reads the scheme: C0/space trimmed, tabs and newlines removed."""
    text = url.strip("".join(map(chr, range(0x21)))).replace("\t", "").replace("\n", "").replace("\r", "")
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", text)
    return match.group(1).lower() if match else ""


def assert_inert(markup: str, *texts: str) -> _Collector:
    """No script, no event handler, only known tags, only safe src/href; each text shown verbatim as text."""
    parser = _Collector()
    parser.feed(markup)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, (tag, markup)
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        for name in ("src", "href"):
            if name in attrs:
                url = attrs[name] or ""
                assert is_safe_url(url) and browser_scheme(url) in ("http", "https", "data"), (name, url)
                if browser_scheme(url) == "data":
                    assert re.match(r"data:(image|video)/", url.strip(), re.I), url
    shown = "".join(parser.text)
    for text in texts:
        assert text in shown, (text, markup)
    return parser


def _job(model_id: str, inputs: dict[str, Any], *, status: str = "completed", error: str | None = None,
         request_id: str = "abc123", output: dict[str, Any] | None = None) -> Job:
    client = rc.Client(token=TEST_TOKEN, base_url="http://127.0.0.1:9")  # never contacted
    job = Job(model_id, inputs, transport=client.transport, journal=client.journal, policy=client.policy,
              request_id=request_id, status=status)
    job.error = error
    job.finished_at = job.created_at + 1.5
    job.outputs = parse_outputs(output or {}, request_id, client.transport)
    return job


def test_static_html_of_a_hostile_job_is_inert() -> None:
    title = "<img src=x onerror=alert('title')>"
    raw = {"type": "object", "properties": {"prompt": {"type": "string", "title": title,
                                                       "description": "<script>alert('desc')</script>"}}}
    fields = schemas.describe_fields(raw)
    assert fields[0]["label"] == title  # passed through as data: the JS sets it with textContent
    assert fields[0]["description"] == "<script>alert('desc')</script>"
    labels = {f["key"]: f["label"] for f in fields}
    job = _job("<script>alert('model')</script>/x", {"prompt": XSS[0], XSS[1]: XSS[2]}, status="failed",
               error="\n".join(XSS), request_id="<b>rid</b>",
               output={"image": "javascript:alert(7)", "images": ["data:text/html,<script>alert(8)</script>",
                                                                  "https://cdn.example/ok.png\"onerror=\"alert(9)"],
                       "video": "file:///etc/passwd", "videos": ["https://cdn.example/v.mp4"]})
    markup = job_html(job, labels)
    parser = assert_inert(markup, title, XSS[0], XSS[1], XSS[2], "<script>alert('model')</script>/x", "<b>rid</b>",
                          *XSS, "javascript:alert(7)", "file:///etc/passwd")
    assert "<script" not in markup.lower()
    sources = [attrs.get("src") for tag, attrs in parser.tags if tag in ("img", "video")]
    assert sources == ["https://cdn.example/ok.png\"onerror=\"alert(9)", "https://cdn.example/v.mp4"]
    assert_inert(static_copy([markup], empty=XSS[0]))
    assert_inert(static_copy([], empty=XSS[1]), XSS[1])
    for output in job.outputs:
        assert_inert(output.html())


@PROPERTY
@given(texts=st.lists(st.text(max_size=40), min_size=6, max_size=6), urls=st.lists(st.text(max_size=60), max_size=3),
       value=python_values)
def test_static_html_escapes_whatever_the_strings(texts: list[str], urls: list[str], value: Any) -> None:
    model, request_id, error, key, label, name = texts
    job = _job(model or "m/x", {key: name, "v": value}, status="failed" if error else "completed", error=error or None,
               request_id=request_id, output={"images": urls})
    markup = job_html(job, {key: label})
    shown = [t for t in (model or "m/x", request_id, label, error) if t and "\r" not in t]
    assert_inert(markup, *shown)


@PROPERTY
@given(st.one_of(
    st.text(max_size=50),
    st.builds(lambda pre, scheme, mid, rest: f"{pre}{scheme}{mid}:{rest}",
              st.sampled_from(["", " ", "\t", "\x00", "\n", "\x1f ", "\u00a0", "\ufeff"]),
              st.sampled_from(["http", "https", "HtTpS", "javascript", "JaVaScRiPt", "java\tscript", "java\nscript",
                               "data", "DATA", "file", "ftp", "vbscript", "blob", "about", "h\x00ttp"]),
              st.sampled_from(["", "\t", " ", "\r\n"]),
              st.one_of(st.text(max_size=40), st.sampled_from([
                  "//example.com/x.png", "alert(1)", "text/html,<script>alert(1)</script>", "image/png;base64,AAAA",
                  "image/svg+xml,<svg onload=alert(1)>", "video/mp4,x", "image/,x", "//[::1", "//", "///etc/passwd",
                  "image", "imagex/png,x", "//u@h/x"])))))
@example("javascript:alert(1)")
@example(" javascript:alert(1)")
@example("data:text/html,<script>alert(1)</script>")
@example("file:///etc/passwd")
@example("http://[::1")
def test_is_safe_url_agrees_with_a_browsers_reading(url: str) -> None:
    safe = is_safe_url(url)
    if safe:
        scheme = browser_scheme(url)
        assert scheme in ("http", "https", "data")
        assert not re.search("[\x00-\x1f\x7f]", url)
        if scheme == "data":
            assert re.match(r"data:(image|video)/[a-z0-9]", url.strip(), re.I)
        else:
            assert urlsplit(url.strip()).netloc
    if browser_scheme(url) not in ("http", "https", "data"):
        assert not safe
    # and the static HTML never makes it a link or a source
    job = _job("m/x", {}, output={"image": url} if url else {})
    assert_inert(job_html(job))


def test_known_unsafe_urls_are_never_safe() -> None:
    for url in ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                "\x00javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>", "data:text/html;base64,PA==",
                "data:application/pdf,x", "vbscript:x", "blob:https://x/y", "//example.com/x.png", "/x.png", "x.png",
                "http:x", "https://", "http://[::1", "https://ok.example/\x00.png", "", None, 42]:
        assert not is_safe_url(url), url  # type: ignore[arg-type]
    for url in ["https://cdn.example/x.png", "http://127.0.0.1:8765/_sim/media/a/b.png", "HTTPS://X.EXAMPLE/Y",
                "data:image/png;base64,AAAA", "data:video/mp4;base64,AAAA"]:
        assert is_safe_url(url), url


# --- saved file names never leave the target folder -------------------------------------------------------------

HOSTILE_PATHS = ["../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%252e%252e%252fetc", "/etc/passwd",
                 "//etc/passwd", "a%00b.png", "..\\..\\windows\\win.ini", "..%5c..%5cwin.ini", "x" * 10_000 + ".png",
                 "ファイル名.png", "\u202egnp.exe", ".bashrc", "..", ".", "%2e%2e", "con.png", "a/b/../../../c.png",
                 "x.html", "x.png.desktop", "x.PNG", " .png", "%0d%0aSet-Cookie:x.png"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.[a-z0-9]{1,8}$")


def _assert_safe_name(name: str, folder: Path) -> None:
    assert NAME_RE.match(name), name
    assert len(name) <= 120 and name not in (".", "..") and "/" not in name and "\\" not in name
    assert (folder / name).resolve().parent == folder.resolve()


@PROPERTY
@given(path=st.one_of(st.text(max_size=300), st.sampled_from(HOSTILE_PATHS)), request_id=st.text(max_size=40),
       mime=st.one_of(st.sampled_from(["image/png", "video/mp4", "text/html", "application/x-sh", ""]), st.text(max_size=20)),
       index=st.integers(0, 10_000))
def test_safe_file_name_never_leaves_the_folder(path: str, request_id: str, mime: str, index: int) -> None:
    folder = Path(tempfile.gettempdir()) / "rcnb-names"
    for url in (f"https://h.example/{path}", f"https://h.example/{quote(path, safe='')}", path, f"data:{path}"):
        _assert_safe_name(safe_file_name(url, index, request_id, mime), folder)
    for output in parse_outputs({"image": f"https://h.example/{path}", "videos": [path or "x"]}, request_id):
        _assert_safe_name(output.name, folder)


@pytest.mark.parametrize("hostile", HOSTILE_PATHS[:12])
def test_output_save_of_a_hostile_url_stays_in_the_folder(hostile: str, http_server: Any, tmp_path: Path,
                                                          checker: Any) -> None:
    target = tmp_path / "root" / "out"
    url = f"{http_server.url}/{quote(hostile, safe='/%')}"
    (output,) = parse_outputs({"image": url}, "req-1", checker.transport)
    path = output.save(target)
    assert path.parent == target.resolve() and path.read_bytes() == PNG_1X1
    assert {p.resolve() for p in (tmp_path / "root").rglob("*")} == {target.resolve(), path}
    named = output.save(target, name=hostile)
    assert named.parent == target.resolve() and named.read_bytes() == PNG_1X1
    assert {p.resolve() for p in (tmp_path / "root").rglob("*")} == {target.resolve(), path, named}


def test_output_save_properties_against_a_real_http_server(http_server: Any, checker: Any) -> None:
    root = Path(tempfile.mkdtemp(prefix="rcnb-save-"))
    target = root / "out"
    served = len(http_server.paths)
    try:
        @settings(PROPERTY, max_examples=60)
        @given(path=st.one_of(st.text(max_size=120), st.sampled_from(HOSTILE_PATHS)), name=st.text(max_size=60),
               request_id=st.text(max_size=20))
        def check(path: str, name: str, request_id: str) -> None:
            shutil.rmtree(root, ignore_errors=True)
            url = f"{http_server.url}/{quote(path, safe='')}"
            (output,) = parse_outputs({"image": url}, request_id, checker.transport)
            saved = [output.save(target)]
            if name:
                saved.append(output.save(target, name=name))
            for path_ in saved:
                assert path_.parent == target.resolve() and path_.read_bytes() == PNG_1X1
            assert {p.resolve() for p in root.rglob("*")} == {target.resolve(), *saved}  # nothing anywhere else

        check()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert len(http_server.paths) - served >= 60  # the files really came over HTTP


def test_output_save_refuses_a_name_that_escapes(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link.png").symlink_to(tmp_path / "elsewhere.png")
    for name in ("../escape.png", "/etc/passwd", "link.png"):
        output = Output(url="data:image/png;base64," + base64.b64encode(PNG_1X1).decode(), kind="image",
                        mime="image/png", name=name)
        with pytest.raises(ValueError, match="outside"):
            output.save(tmp_path / "out")
    assert not (tmp_path / "escape.png").exists() and not (tmp_path / "elsewhere.png").exists()


# --- media inputs are refused before anything is sent -----------------------------------------------------------

MiB = 1024 * 1024


def _data_uri(mime: str, size: int, head: bytes = PNG_1X1[:16]) -> str:
    return f"data:{mime};base64," + base64.b64encode(head + b"\0" * (size - len(head))).decode()


REFUSED = [
    ("http://example.com/cat.png", "https_only"),
    ("http://93.184.216.34/cat.png", "https_only"),
    ("http://localhost.evil.example/cat.png", "https_only"),
    ("http://user@127.0.0.1/cat.png", "https_only"),
    ("file:///etc/passwd", "url_scheme"),
    ("javascript:alert(1)", "url_scheme"),
    ("ftp://example.com/cat.png", "url_scheme"),
    ("data:text/html,<script>alert(1)</script>", "media_type"),
    ("data:video/mp4;base64,AAAAIGZ0eXBpc29t", "media_type"),
    ("data:image/png;base64,PGh0bWw+PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0PjwvaHRtbD4=", "media_type"),
    ("data:image/png;base64,AAAAIGZ0eXBpc29tAAACAGlzb21pc28y", "media_type"),  # an MP4 labelled PNG
    ("/nonexistent/dir/cat.png", "not_found"),
    ("~no_such_user_rcnb/cat.png", "not_found"),
    ("http://[::1", "url_syntax"),
    ("https://", "url_syntax"),
    ("java\tscript:alert(1)", "url_syntax"),
]


@pytest.mark.parametrize("value,rule", REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_media_refused_before_sending(value: str, rule: str, client: Any, sim: Any) -> None:
    with pytest.raises(MediaInputError) as direct:
        media.to_media_value("image", "image", value)
    assert direct.value.rule == rule, str(direct.value)
    with pytest.raises(MediaInputError) as caught:
        client.submit("ideogram/ideogram-v3/reframe", image=value, resolution="1024:1024 (1:1)")
    assert caught.value.field == "image" and caught.value.rule == rule
    with pytest.raises(MediaInputError):  # validation off: media rules still hold
        client.submit("blackforestlabs/flux-1-kontext/pro/edit", {"prompt": "x", "image_url": value}, validate=False)
    assert sim.counters()["submits_received"] == 0


def test_media_size_caps_and_local_files(client: Any, sim: Any, tmp_path: Path) -> None:
    at_cap = _data_uri("image/png", 6 * MiB)
    assert media.to_media_value("image", "image", at_cap) == at_cap
    over = _data_uri("image/png", 6 * MiB + 3)
    with pytest.raises(MediaInputError) as caught:
        client.submit("ideogram/ideogram-v3/reframe", image=over, resolution="1024:1024 (1:1)")
    assert caught.value.rule == "max_size" and len(str(caught.value)) < 400  # the 8 MiB value is not echoed
    big = tmp_path / "big.png"
    with big.open("wb") as handle:
        handle.write(PNG_1X1)
        handle.truncate(6 * MiB + 1)
    page = tmp_path / "page.png"
    page.write_bytes(b"<!DOCTYPE html><script>alert(1)</script>")
    clip = tmp_path / "clip.png"
    clip.write_bytes(b"\0\0\0\x20ftypisom" + b"\0" * 64)
    for path, rule in ((big, "max_size"), (page, "media_type"), (clip, "media_type"), (tmp_path, "not_found")):
        for value in (str(path), path):
            with pytest.raises(MediaInputError) as caught:
                client.submit("ideogram/ideogram-v3/reframe", image=value, resolution="1024:1024 (1:1)")
            assert caught.value.rule == rule, (path, str(caught.value))
    with pytest.raises(MediaInputError):
        client.submit("ideogram/ideogram-v3/reframe", image=b"<html>not an image</html>", resolution="1024:1024 (1:1)")
    assert sim.counters()["submits_received"] == 0
    # control: a small local PNG is accepted and sent (the counter does count)
    good = tmp_path / "good.png"
    good.write_bytes(PNG_1X1)
    job = client.submit("ideogram/ideogram-v3/reframe", image=good, resolution="1024:1024 (1:1)")
    assert job.inputs["image"].startswith("data:image/png;base64,")
    assert sim.counters()["submits_received"] == 1
    job.wait(timeout=60)


@PROPERTY
@given(value=st.one_of(hostile_media, valid_media, st.text(max_size=80)))
def test_every_media_value_is_sendable_or_refused(value: Any) -> None:
    """Whatever string or value reaches a media field: a MediaInputError, or something the rules allow."""
    try:
        sent = media.to_media_value("image", "image", value, "RunComfy_examples_1235_1.png")
    except MediaInputError:
        return
    assert isinstance(sent, str) and not re.search("[\x00-\x1f\x7f]", sent)
    scheme = browser_scheme(sent)
    parts = urlsplit(sent)
    if sent == "RunComfy_examples_1235_1.png":
        return
    if scheme == "https":
        assert parts.hostname
    elif scheme == "http":
        assert is_loopback_host(parts.hostname) and "@" not in parts.netloc
    else:
        assert scheme == "data" and sent[5:].lower().startswith("image/"), sent
        assert len(sent) <= 6 * MiB * 4 // 3 + 64


def test_form_shows_hostile_schema_text_as_data(http_server: Any) -> None:
    """A catalog whose titles and descriptions hold HTML: the form gets them verbatim (the JS sets textContent);
    the static copy escapes them."""
    title, description = "<img src=x onerror=alert('t')>", "<script>alert('d')</script>"
    entry = {"model_id": "evil/model", "display_name": "<b>evil</b>", "input_schema": {
        "type": "object", "required": ["prompt"], "properties": {
            "prompt": {"type": "string", "title": title, "description": description},
            "image": {"type": "string", "title": "<svg onload=alert(1)>", "format": "image_uri"},
            "broken": {"type": "imaginary", "maxLength": "ten", "enum": "nope", "pattern": "("}}}}
    http_server.routes["/v1/models/evil/model"] = (200, entry, "application/json")
    client = rc.Client(token=TEST_TOKEN, base_url=http_server.url)
    try:
        form = rc.form("evil/model", client=client)
        by_key = {f["key"]: f for f in form.fields}
        assert by_key["prompt"]["label"] == title and by_key["prompt"]["description"] == description
        assert by_key["image"]["kind"] == "media" and by_key["image"]["label"] == "<svg onload=alert(1)>"
        assert by_key["broken"]["kind"] == "text"  # malformed rules dropped, the field still usable
        form.values = {"image": "javascript:alert(1)", "broken": 5}
        assert set(form.errors) == {"prompt", "image"}  # still validated: required, media (broken has no rules left)
        assert_inert(form._fallback_html(), "evil/model")
        with pytest.raises(MediaInputError):
            client.check("evil/model", {"prompt": "x", "image": "javascript:alert(1)"})
        job = _job("evil/model", {"prompt": "hi"})
        assert_inert(job_html(job, {f["key"]: f["label"] for f in form.fields}), title)
    finally:
        client.close()



# --- the magic's parser: hostile cell text is a UsageError, nothing else ---------------------------------------

@PROPERTY
@given(line=st.one_of(st.text(alphabet=st.sampled_from(list("ab=\" '\\{}[]:,\n@$u0#")), max_size=40), st.text(max_size=40)),
       field_type=st.sampled_from([None, "string", "integer", "object"]))
@example(line='prompt="a\\qb"', field_type=None)  # a bad escape in a quoted value
@example(line="style=" + "[" * 50_000 + "]" * 50_000, field_type="object")  # json.loads → RecursionError
@example(line="[" * 50_000 + "]" * 50_000, field_type=None)
def test_magic_parsing_raises_only_usage_errors(line: str, field_type: str | None) -> None:
    types = {"style": field_type, "a": field_type} if field_type else {}
    try:
        parse_pairs(tokenize(line), types, {"b": 1})
    except UsageError as error:
        assert len(str(error)) < 400  # a huge hostile value is not echoed whole
    try:
        parse_body(line if not line.startswith("style=") else "{" + line[6:] + "}", types)
    except UsageError as error:
        assert len(str(error)) < 400


# --- hostile API answers ------------------------------------------------------------------------------------

DEEP_JSON = b'{"status": "in_queue", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _hostile_api(http_server: Any, routes: dict[str, tuple[int, Any, str]]) -> Any:
    http_server.routes.update(routes)
    return rc.Client(token=TEST_TOKEN, base_url=http_server.url,
                     retry=rc._http.RetryPolicy(attempts=2, base_delay=0.01))


def test_deeply_nested_json_from_the_api_is_a_server_error(http_server: Any) -> None:
    client = _hostile_api(http_server, {"/v1/requests/deep1/status": (200, DEEP_JSON, "application/json")})
    try:
        with pytest.raises(rc.ServerError):
            run_sync(client.transport.status("deep1"))
    finally:
        client.close()


def test_a_job_keeps_polling_after_one_unparseable_status_answer(http_server: Any) -> None:
    client = _hostile_api(http_server, {"/v1/models/hostile/deep": (200, {"request_id": "deep2"}, "application/json"),
                                        "/v1/requests/deep2/status": (200, DEEP_JSON, "application/json")})
    try:
        job = client.submit("hostile/deep", {"prompt": "x"}, validate=False)
        deadline = time.monotonic() + 30  # a hang-catcher; three polls normally take well under a second
        while time.monotonic() < deadline and job.status_requests < 3:
            time.sleep(0.1)
        assert job.status_requests >= 3
    finally:
        client.close()


def test_a_malformed_error_detail_is_still_an_api_error(http_server: Any) -> None:
    body = {"error_code": 422001, "error_message": "bad", "detail": [{"loc": 5, "msg": "x"}]}
    client = _hostile_api(http_server, {"/v1/models/hostile/detail": (422, body, "application/json")})
    try:
        with pytest.raises(rc.ServerValidationError):
            client.submit("hostile/detail", {"prompt": "x"}, validate=False)
    finally:
        client.close()


def test_a_catalog_property_that_is_not_an_object_is_no_crash(http_server: Any) -> None:
    entry = {"model_id": "hostile/props", "input_schema": {"type": "object", "properties": {
        "prompt": {"type": "string"}, "image": "not a schema"}}}
    client = _hostile_api(http_server, {"/v1/models/hostile/props": (200, entry, "application/json")})
    try:
        assert client.check("hostile/props", {"prompt": "x"}) == {"prompt": "x"}
    finally:
        client.close()


def test_inputs_that_are_not_a_mapping_are_an_input_error(checker: Any) -> None:
    with pytest.raises(InputValidationError):
        checker.submit(WAN_ID, ["prompt", "a fox"])


def test_unknown_then_upper_case_statuses_keep_the_job_alive(http_server: Any) -> None:
    """An unknown status warns and polling goes on; upper-case and /result vocabularies still end the job."""
    client = _hostile_api(http_server, {
        "/v1/models/odd/model": (200, {"request_id": "odd1"}, "application/json"),
        "/v1/requests/odd1/status": (200, {"request_id": "odd1", "status": "warming_up"}, "application/json")})
    try:
        job = client.submit("odd/model", {"prompt": "x"}, validate=False)
        with pytest.raises(rc.JobTimeoutError):
            job.wait(timeout=1.0)
        deadline = time.monotonic() + 30  # polling goes on after the wait gave up; a busy machine may be slow at it
        while job.status_requests < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.status_requests >= 3 and any("warming_up" in w for w in job.warnings)
        http_server.routes["/v1/requests/odd1/status"] = (200, {"status": "COMPLETED"}, "application/json")
        http_server.routes["/v1/requests/odd1/result"] = (
            200, {"status": "SUCCEEDED", "output": {"images": [http_server.url + "/a.png"]}}, "application/json")
        assert [o.kind for o in job.wait(timeout=10)] == ["image"] and job.status == "completed"
        http_server.routes["/v1/models/odd/two"] = (200, {"request_id": "odd2"}, "application/json")
        http_server.routes["/v1/requests/odd2/status"] = (200, {"status": "CANCELED"}, "application/json")
        other = client.submit("odd/two", {"prompt": "y"}, validate=False)
        with pytest.raises(rc.JobCancelledError):
            other.wait(timeout=10)
        assert other.status == "cancelled"
    finally:
        client.close()
