"""The simulator's HTTP surface: the RunComfy Model API (PROTOCOL.md) under /v1/, and the non-API /_sim/.

Starlette handlers only: they count, inject faults, authenticate, validate, and ask the engine.
The token is never logged or echoed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .engine import STATUS_VIEW, Engine, Job
from .faults import Fault
from .knobs import KnobError
from .util import body_sha256, iso

AUTH_ERROR = {"error_code": 400004,
              "error_message": "Missing, invalid or expired API token: send 'Authorization: Bearer <token>'."}


class DroppedConnection(Exception):
    """Raised on purpose after a partial response: the server closes the connection (fault kind "drop")."""


class _DropFilter(logging.Filter):
    """Keep uvicorn from logging a traceback for every connection the simulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        for _ in range(8):  # the exception, or what it was raised from
            if exc is None:
                break
            if isinstance(exc, DroppedConnection):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFilter) for f in logger.filters):
        logger.addFilter(_DropFilter())


class DropResponse(Response):
    """Headers promising more body than is ever sent, then the connection is closed."""

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        partial = b'{"request_id": "'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": partial, "more_body": True})
        raise DroppedConnection("simulated dropped connection")


def error(status: int, code: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error_code": code, "error_message": message, **extra}, status_code=status)


def _fault_response(fault: Fault) -> Response | None:
    kind = fault.kind
    if kind == "429":
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        return JSONResponse({"error_code": 429001, "error_message": "Too many requests (simulated rate limit)."},
                            status_code=429, headers=headers)
    if kind == "502":  # gateways answer in HTML, not in the API's JSON
        return Response("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                        "</h1></center><hr><center>nginx</center></body></html>\n",
                        status_code=502, media_type="text/html")
    if kind in ("500", "503", "504"):
        status = int(kind)
        return error(status, status * 1000 + 1, f"Simulated server error ({status}).")
    if kind in ("drop", "drop_accepted"):
        return DropResponse()
    if kind == "malformed":
        return Response(b'{"request_id": "5f0c", "status": ', status_code=200, media_type="application/json")
    if kind == "error200":
        return JSONResponse({"error_code": 500001, "error_message": "Internal error (simulated, sent with HTTP 200)."})
    return None


def _validation_detail(raw_schema: dict[str, Any], inputs: dict[str, Any], problems: list[Any]) -> list[dict[str, Any]]:
    """One `detail` entry per broken field, in schema order; every missing required field gets its own."""
    props = list((raw_schema.get("properties") or {}).keys())
    entries: dict[str | None, dict[str, Any]] = {}
    for key in raw_schema.get("required") or []:
        if key not in inputs:
            entries[key] = {"loc": ["body", key], "msg": f"{key}: required — the field is missing", "type": "required"}
    for problem in problems:
        if problem.field in entries:
            continue
        entries[problem.field] = {"loc": ["body", problem.field] if problem.field is not None else ["body"],
                                  "msg": str(problem), "type": problem.rule}
    order = {key: index for index, key in enumerate(props)}
    return sorted(entries.values(), key=lambda e: order.get(e["loc"][-1] if len(e["loc"]) > 1 else None, len(order)))


def create_app(engine: Engine) -> Starlette:
    """The ASGI app for one engine."""
    install_log_filter()

    async def inject(path: str) -> tuple[Response | None, Fault | None]:
        fault = engine.faults.draw(path)
        if fault is None:
            return None, None
        engine.counters.faults[fault.kind] = engine.counters.faults.get(fault.kind, 0) + 1
        if fault.kind == "slow":
            await asyncio.sleep(fault.slow_seconds)
            return None, fault
        if fault.kind == "drop_accepted" and path == "submit":
            return None, fault  # the submit goes through, then the answer is dropped
        return _fault_response(fault), fault

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        expected = engine.knobs.token
        return expected is None or hmac.compare_digest(token.encode(), expected.encode())

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def urls(request: Request, request_id: str) -> dict[str, str]:
        root = f"{base(request)}/v1/requests/{request_id}"
        return {"status_url": f"{root}/status", "result_url": f"{root}/result"}

    def find(request: Request) -> Job | None:
        return engine.jobs.get(request.path_params["request_id"])

    def unknown_request(request: Request) -> JSONResponse:
        return error(404, 404001, f"Unknown or expired request_id {request.path_params['request_id'][:128]!r}.")

    async def guarded(request: Request, key: str, path: str) -> Response | None:
        """Count, inject a fault, authenticate: a Response to send instead, or None to go on."""
        engine.counters.requests[key] += 1
        response, _ = await inject(path)
        if response is not None:
            return response
        if not authorised(request):
            return JSONResponse(AUTH_ERROR, status_code=401)
        return None

    # --- /v1/models ---------------------------------------------------------------------------------------

    async def list_models(request: Request) -> Response:
        early = await guarded(request, "GET catalog", "catalog")
        if early is not None:
            return early
        q = request.query_params
        try:
            limit = int(q.get("limit") or 50)
            offset = int(q.get("offset") or 0)
        except ValueError:
            return error(422, 422001, "limit and offset must be integers.",
                         detail=[{"loc": ["query", "limit"], "msg": "must be an integer", "type": "int_parsing"}])
        limit = max(1, min(limit, 200))
        offset = max(0, offset)
        include_schema = (q.get("include_schema") or "").lower() in ("1", "true", "yes", "on")
        found = engine.catalog.search(search=q.get("search") or "", category=q.get("category") or "",
                                      kind=q.get("kind") or "")
        page = [engine.catalog.public(m, include_schema=include_schema) for m in found[offset:offset + limit]]
        return JSONResponse({"models": page, "total": len(found), "limit": limit, "offset": offset})

    async def model_endpoint(request: Request) -> Response:
        if request.method == "POST":
            return await submit(request)
        early = await guarded(request, "GET catalog", "catalog")
        if early is not None:
            return early
        model_id = request.path_params["model_id"]
        entry = engine.catalog.public(model_id)
        if entry is None:
            return error(404, 400001, f"Unknown model_id {model_id[:200]!r}.")
        return JSONResponse(entry)

    async def submit(request: Request) -> Response:
        engine.counters.requests["POST submit"] += 1
        engine.counters.submits_received += 1
        raw = await request.body()
        digest = body_sha256(raw)
        engine.counters.bodies[digest] = engine.counters.bodies.get(digest, 0) + 1
        response, fault = await inject("submit")
        if response is not None:
            return response
        if not authorised(request):
            return JSONResponse(AUTH_ERROR, status_code=401)
        model_id = request.path_params["model_id"]
        entry = engine.catalog.get(model_id)
        if entry is None:
            return error(400, 400001, f"Unknown model_id {model_id[:200]!r}: see GET /v1/models.")
        try:
            inputs = json.loads(raw)
        except ValueError as exc:
            return error(422, 422001, "The body is not valid JSON.",
                         detail=[{"loc": ["body"], "msg": f"invalid JSON: {exc}", "type": "json_invalid"}])
        if not isinstance(inputs, dict):
            return error(422, 422001, "The body must be a JSON object of the model's inputs.",
                         detail=[{"loc": ["body"], "msg": "must be a JSON object", "type": "dict_type"}])
        from ..errors import InputValidationError
        from ..schemas import apply_defaults, validate_inputs

        raw_schema = entry["input_schema"]
        try:
            validate_inputs(raw_schema, inputs)
        except InputValidationError as exc:
            return error(422, 422001, f"Input validation failed: {exc}",
                         detail=_validation_detail(raw_schema, inputs, exc.errors or [exc]))
        if engine.queue_full():
            return JSONResponse({"error_code": 429002, "error_message": "The queue is full; try again shortly."},
                                status_code=429, headers={"Retry-After": "1"})
        job = engine.submit(model_id, inputs, apply_defaults(raw_schema, inputs))
        if fault is not None and fault.kind == "drop_accepted":
            return DropResponse()
        root = f"{base(request)}/v1/requests/{job.request_id}"
        return JSONResponse({"request_id": job.request_id, "status_url": f"{root}/status",
                             "result_url": f"{root}/result", "cancel_url": f"{root}/cancel"})

    # --- /v1/requests -------------------------------------------------------------------------------------

    async def status(request: Request) -> Response:
        early = await guarded(request, "GET status", "status")
        if early is not None:
            return early
        job = find(request)
        if job is None:
            return unknown_request(request)
        body: dict[str, Any] = {"request_id": job.request_id, "status": STATUS_VIEW[job.status]}
        position = engine.queue_position(job)
        if position is not None:
            body["queue_position"] = position
        if job.status == "in_progress" and job.worker is not None:
            body["instance_id"] = f"sim-worker-{job.worker}"
        body.update(urls(request, job.request_id))
        return JSONResponse(body)

    async def result(request: Request) -> Response:
        early = await guarded(request, "GET result", "result")
        if early is not None:
            return early
        job = find(request)
        if job is None:
            return unknown_request(request)
        if job.status in ("in_queue", "in_progress"):
            if engine.knobs.result_unfinished == "400005":
                return error(400, 400005, f"The request is not finished yet (status: {job.status}).")
            return JSONResponse({"request_id": job.request_id, "status": job.status})
        body: dict[str, Any] = {"request_id": job.request_id, "status": job.status}
        if job.status == "succeeded":
            root = f"{base(request)}/_sim/media/{job.request_id}"
            links = [f"{root}/{out.name}" for out in job.outputs]
            if job.kind == "video" or (links and job.outputs[0].media_type.startswith("video/")):
                body["output"] = {"video": links[0]} if len(links) == 1 else {"videos": links}
            else:
                body["output"] = {"image": links[0]} if len(links) == 1 else {"images": links}
        elif job.status == "failed":
            body["error"] = job.error
        body["created_at"] = iso(job.created_at)
        body["finished_at"] = iso(job.finished_at)
        if (request.query_params.get("include_cost") or "").lower() in ("1", "true", "yes"):
            body["cost"] = job.cost if job.status == "succeeded" else 0.0
        return JSONResponse(body)

    async def cancel(request: Request) -> Response:
        early = await guarded(request, "POST cancel", "cancel")
        if early is not None:
            return early
        job = find(request)
        if job is None:
            return unknown_request(request)
        outcome = engine.cancel(job)
        return JSONResponse({"request_id": job.request_id, "status": "completed", "outcome": outcome},
                            status_code=202)

    # --- outputs ------------------------------------------------------------------------------------------

    async def media_file(request: Request) -> Response:
        engine.counters.requests[f"{request.method} media"] += 1  # GET or HEAD (Starlette adds HEAD)
        response, _ = await inject("media")
        if response is not None:
            return response
        out, expired = engine.output(request.path_params["request_id"], request.path_params["name"])
        if out is None:
            return error(404, 404001, "No such output.")
        if expired or not out.path.exists():
            return error(404, 404001, "This output has expired: outputs are kept for a limited time. "
                                      "Save results you want to keep.")
        return FileResponse(out.path, media_type=out.media_type,
                            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "private, max-age=3600"})

    # --- /_sim/ (not part of the API; no token) -----------------------------------------------------------

    async def sim_index(request: Request) -> Response:
        return JSONResponse({"simulator": "runcomfy_nb", "api": f"{base(request)}/v1/",
                             "models": engine.catalog.ids(), "knobs": engine.knobs.public(),
                             "docs": "docs/simulator.md"})

    async def sim_counters(request: Request) -> Response:
        return JSONResponse(engine.counters_snapshot())

    async def sim_jobs(request: Request) -> Response:
        return JSONResponse(engine.jobs_list())

    async def sim_reset(request: Request) -> Response:
        engine.reset()
        return JSONResponse({"reset": True})

    async def sim_expire(request: Request) -> Response:
        return JSONResponse({"expired": engine.expire_all()})

    async def sim_config(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(engine.knobs.public())
        try:
            changes = json.loads(await request.body() or b"{}")
            if not isinstance(changes, dict):
                raise KnobError("the body must be a JSON object of knobs")
            engine.configure(engine.knobs.parse(changes))
        except (ValueError, KnobError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(engine.knobs.public())

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return error(status, status * 1000, f"{request.method} {request.url.path}: "
                     f"{'no such endpoint' if status == 404 else 'method not allowed'}.")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.shutdown()

    routes = [
        Route("/", sim_index),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", model_endpoint, methods=["GET", "POST"]),
        Route("/v1/requests/{request_id}/status", status, methods=["GET"]),
        Route("/v1/requests/{request_id}/result", result, methods=["GET"]),
        Route("/v1/requests/{request_id}/cancel", cancel, methods=["POST"]),
        Route("/_sim/media/{request_id}/{name}", media_file, methods=["GET"]),
        Route("/_sim", sim_index),
        Route("/_sim/counters", sim_counters, methods=["GET"]),
        Route("/_sim/jobs", sim_jobs, methods=["GET"]),
        Route("/_sim/reset", sim_reset, methods=["POST"]),
        Route("/_sim/expire", sim_expire, methods=["POST"]),
        Route("/_sim/config", sim_config, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
