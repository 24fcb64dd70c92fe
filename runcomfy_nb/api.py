"""The public API: `Client` (submit, attach, models, schema) and the module-level helpers behind `rc.*`."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections import defaultdict, deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import schemas
from .client import ApiClient, RetryPolicy
from .config import SIM_TOKEN, Endpoint, Secret, check_base, resolve, settings
from .errors import ConfigError, InputValidationError, NotFoundError, RunComfyError
from .job import TERMINAL, Job
from .journal import Journal, default_journal
from .loop import run_coro, run_sync
from .media import prepare_media
from .outputs import Output

if TYPE_CHECKING:
    import httpx


class Client:
    """One endpoint (the RunComfy API or the simulator), one connection pool, on the background loop.

    `rc.Client()` reads the token from RUNCOMFY_API_TOKEN / RUNCOMFY_API_KEY / RUNCOMFY_TOKEN, or uses the
    simulator once `rc.sim.start()` / `%runcomfy sim on` started it. The token is never shown.
    """

    def __init__(self, token: str | Secret | None = None, base_url: str | None = None, *,
                 retry: RetryPolicy | None = None, timeout: float | httpx.Timeout | None = None,
                 journal: Journal | None = None, endpoint: Endpoint | None = None) -> None:
        if isinstance(token, str):  # wrapped before anything can fail: no plain token in a traceback's locals
            token = Secret(token.strip())
        self.endpoint = endpoint or resolve(token, base_url)
        self.api = ApiClient(self.endpoint, retry=retry, timeout=timeout)
        self._journal = journal
        self._schemas: dict[str, dict[str, Any] | None] = {}
        self._schema_lock = threading.Lock()
        self._run_times: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=7))

    def __repr__(self) -> str:
        endpoint = getattr(self, "endpoint", None)  # a traceback may show a Client whose __init__ failed
        if endpoint is None:
            return "<runcomfy_nb.Client (not configured)>"
        return f"<runcomfy_nb.Client {'simulator' if endpoint.simulator else 'api'} {endpoint.base_url}>"

    @property
    def journal(self) -> Journal:
        return self._journal or default_journal()

    @property
    def simulator(self) -> bool:
        return self.endpoint.simulator

    # --- schemas -------------------------------------------------------------------------------------------

    def schema(self, model_id: str) -> dict[str, Any] | None:
        """The model's raw input schema: the catalog's when the API answers, else the shipped one, else None."""
        with self._schema_lock:
            if model_id in self._schemas:
                return self._schemas[model_id]
        found: dict[str, Any] | None = None
        try:
            entry = run_sync(self.api.get_model(model_id), timeout=15)
            candidate = entry.get("input_schema") if isinstance(entry, dict) else None
            if isinstance(candidate, dict) and isinstance(candidate.get("properties"), dict):
                found = candidate
        except Exception:  # offline, no catalog on this endpoint, unknown model: the shipped schema decides
            found = None
        if found is None:
            found = schemas.shipped_schema(model_id)
        with self._schema_lock:
            self._schemas[model_id] = found
        return found

    def models(self, search: str | None = None) -> list[dict[str, Any]]:
        """The catalog (model_id, display_name, kind, …) when the API has one, else the shipped models."""
        try:
            answer = run_sync(self.api.list_models(search=search, limit=200), timeout=15)
            models = answer.get("models")
            if isinstance(models, list) and models:
                return models
        except Exception:
            pass
        models = [{k: v for k, v in m.items() if k != "output_schema"} for m in schemas.shipped_models()]
        if search:
            models = [m for m in models if search.lower() in (m["model_id"] + m["display_name"]).lower()]
        return models

    def display_name(self, model_id: str) -> str:
        entry = schemas.shipped_entry(model_id)
        return entry["display_name"] if entry else model_id

    def check(self, model_id: str, inputs: dict[str, Any], *, validate: bool | None = None) -> dict[str, Any]:
        """The inputs exactly as they would be sent: defaults applied, validated, media prepared.

        Raises InputValidationError naming the field, the rule and the value; nothing is sent.
        """
        validate = settings.validate if validate is None else validate
        raw = self.schema(model_id)
        if raw is None:
            if validate:
                warnings.warn(f"No schema is known for {model_id!r}: its inputs are sent without validation.",
                              stacklevel=3)
            return dict(inputs)
        full = schemas.apply_defaults(raw, inputs)
        # Media first (a PIL image or a path becomes a data: URI), then the schema sees what will be sent.
        # Media rules hold even with validation off: no file: or javascript: URL is ever sent.
        prepared = prepare_media(schemas.media_fields(raw), full, _defaults(raw))
        if validate:
            schemas.validate_inputs(raw, prepared)
        return prepared

    def field_errors(self, model_id: str, inputs: dict[str, Any]) -> dict[str, str]:
        """field -> message for every problem (for forms); {} when the inputs can be submitted."""
        raw = self.schema(model_id)
        if raw is None:
            return {}
        full = schemas.apply_defaults(raw, {k: v for k, v in inputs.items() if v is not None})
        errors: dict[str, str] = {}
        for key, kind in schemas.media_fields(raw).items():
            if full.get(key) is None:
                continue
            try:
                full.update(prepare_media({key: kind}, {key: full[key]}, _defaults(raw)))
            except InputValidationError as error:
                errors[key] = str(error)
        for problem in schemas.check_inputs(raw, full):
            errors.setdefault(problem.field or "_form", str(problem))
        return errors

    # --- jobs ----------------------------------------------------------------------------------------------

    def start(self, model_id: str, inputs: dict[str, Any] | None = None, /, *, validate: bool | None = None,
              **kwargs: Any) -> Job:
        """Validate, then submit in the background; returns the Job at once (status "submitting")."""
        if inputs is not None and not isinstance(inputs, Mapping):
            raise InputValidationError(f"inputs: type — must be a mapping of field names to values; got "
                                       f"{type(inputs).__name__}", field=None, rule="type", value=inputs)
        merged = {**(inputs or {}), **kwargs}
        prepared = self.check(model_id, merged, validate=validate)
        job = Job(self, model_id, prepared)
        self.journal.record_submitting(job.local_id, model_id, self.endpoint.base_url, self.simulator, prepared)
        run_coro(job._submit(prepared))
        return job

    def submit(self, model_id: str, inputs: dict[str, Any] | None = None, /, *, validate: bool | None = None,
               **kwargs: Any) -> Job:
        """Validate, submit and return the Job once the API has accepted it (polling goes on in background)."""
        job = self.start(model_id, inputs, validate=validate, **kwargs)
        job._accepted.result()
        return job

    async def submit_async(self, model_id: str, inputs: dict[str, Any] | None = None, /, *,
                           validate: bool | None = None, **kwargs: Any) -> Job:
        job = self.start(model_id, inputs, validate=validate, **kwargs)
        await asyncio.wrap_future(job._accepted)
        return job

    def run(self, model_id: str, inputs: dict[str, Any] | None = None, /, *, timeout: float | None = None,
            **kwargs: Any) -> list[Output]:
        """Submit and wait: the outputs."""
        return self.submit(model_id, inputs, **kwargs).wait(timeout)

    def attach(self, request_id: str, model_id: str | None = None) -> Job:
        """A Job for a request submitted earlier (this process or another one, from the journal).

        A job the journal knows as finished is restored from it (outputs, local copies kept by auto-save, the
        original timestamps) without asking the API again: its result URLs may have expired by now. Any other
        job is polled until it ends.
        """
        row = self.journal.get(request_id)
        if row is not None and row.get("base_url") and row["base_url"] != self.endpoint.base_url:
            # Never ask one API (with its token) about a job submitted to another.
            raise ConfigError(f"{request_id!r} was submitted to {row['base_url']}, not {self.endpoint.base_url}: "
                              f"use rc.Client(token=..., base_url={row['base_url']!r}).attach({request_id!r}), "
                              "with that base's own token", request_id=request_id)
        job = Job(self, model_id or (row or {}).get("model_id") or "unknown", (row or {}).get("inputs") or {},
                  local_id=(row or {}).get("local_id"), request_id=request_id,
                  status=(row or {}).get("status") if row and row.get("status") not in ("submitting", "rejected")
                  else "in_queue")
        if row is None:
            self.journal.record_submitting(job.local_id, job.model_id, self.endpoint.base_url, self.simulator, {})
            self.journal.update(job.local_id, request_id=request_id, status=job.status)
        else:
            job.submitted_at, job.started_at = row.get("submitted_at"), row.get("started_at")
            job.queue_position = row.get("queue_position")
            outputs = [_output_from_journal(item, request_id, self) for item in row.get("outputs") or []
                       if isinstance(item, dict) and item.get("url")]
            job._saved_before = {o.url: o.saved_path for o in outputs if o.saved_path is not None}
            if job.status == "completed" and outputs:
                job._accepted.set_result(request_id)
                job._finish("completed", outputs=outputs, finished_at=row.get("finished_at"))
                return job
        job._accepted.set_result(request_id)
        if job.status in TERMINAL:
            job.status = "in_progress" if job.status == "completed" else job.status
            if job.status in TERMINAL:  # failed/cancelled are final; nothing more to fetch
                job._finish(job.status, error=(row or {}).get("error"), finished_at=(row or {}).get("finished_at"))
                return job
        job.start_polling()
        return job

    # --- learning run times for the poll schedule ----------------------------------------------------------

    def run_times(self, model_id: str) -> list[float]:
        known = self._run_times.get(model_id)
        if known:
            return list(known)
        try:
            history = self.journal.run_times(model_id, self.endpoint.base_url)
        except Exception:
            history = []
        self._run_times[model_id].extend(reversed(history))
        return history

    def learn_run_time(self, model_id: str, job: Job) -> None:
        estimate = job.run_time_estimate()
        if estimate is not None:
            self._run_times[model_id].append(estimate)

    def close(self) -> None:
        run_sync(self.api.aclose())


def _output_from_journal(item: dict[str, Any], request_id: str, client: Client) -> Output:
    saved = item.get("saved_path")
    return Output(url=item["url"], kind=item.get("kind") or "file", mime=item.get("mime") or "application/octet-stream",
                  name=item.get("name") or "output", request_id=request_id,
                  saved_path=Path(saved) if saved else None, _client=client)


def _defaults(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: p.get("default") for k, p in (raw.get("properties") or {}).items() if isinstance(p, dict)}


# --- module-level helpers (rc.models(), rc.jobs(), rc.attach(), …) ------------------------------------------

_clients: dict[Endpoint, Client] = {}
_clients_lock = threading.Lock()


def default_client() -> Client:
    """The client for the current default endpoint (simulator if started, else the environment's token)."""
    endpoint = resolve()
    with _clients_lock:
        client = _clients.get(endpoint)
        if client is None:
            client = _clients[endpoint] = Client(endpoint=endpoint)
        return client


def submit(model_id: str, inputs: dict[str, Any] | None = None, /, **kwargs: Any) -> Job:
    return default_client().submit(model_id, inputs, **kwargs)


def models(search: str | None = None) -> list[dict[str, Any]]:
    try:
        return default_client().models(search)
    except ConfigError:  # no token and no simulator: the shipped catalog still answers
        entries = [{k: v for k, v in m.items() if k != "output_schema"} for m in schemas.shipped_models()]
        return [m for m in entries if not search or search.lower() in m["model_id"].lower()]


def schema(model_id: str) -> dict[str, Any] | None:
    try:
        return default_client().schema(model_id)
    except ConfigError:
        return schemas.shipped_schema(model_id)


def jobs(limit: int | None = 50, model_id: str | None = None) -> list[dict[str, Any]]:
    """The journal, newest first: request_id, model_id, status, inputs, outputs, timestamps, base_url."""
    return default_journal().list(limit=limit, model_id=model_id)


def attach(request_id: str) -> Job:
    """Re-attach to a job from the journal (e.g. after a kernel restart); polls until it ends."""
    row = default_journal().get(request_id)
    if row is None:
        raise NotFoundError(f"{request_id!r} is not in the journal ({default_journal().path}); "
                            "use Client().attach(request_id, model_id) for a request made elsewhere",
                            request_id=request_id)
    try:
        if row["simulator"]:
            # A simulator job gets the simulator's token only, never the real one: whatever listens on that old
            # loopback port now (another simulator, or anything else) learns nothing of value.
            current = resolve() if _simulator_running() else None
            if current is not None and current.simulator and current.base_url == row["base_url"]:
                client = default_client()
            else:
                check_base(row["base_url"])
                client = Client(endpoint=Endpoint(row["base_url"], Secret(SIM_TOKEN), simulator=True))
        else:
            # The environment's token goes only to the configured base; a job journaled for another base needs
            # that base's own credentials (Client(token=..., base_url=...).attach) — resolve() says so.
            client = Client(base_url=row["base_url"])
    except ConfigError as error:
        raise RunComfyError(f"Cannot re-attach: {error}", request_id=request_id) from None
    return client.attach(request_id)


def _simulator_running() -> bool:
    from .config import simulator_endpoint

    return simulator_endpoint() is not None
