"""`Client`: the facade every entry point converges on (submit, attach, models, schema), and `default_client()`.

A Client owns one endpoint's transport (one connection pool on the background loop), its schema cache and its
polling policy; each Job it makes gets only the narrow parts it needs (transport, journal, polling policy).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _runner, reuse, schemas, seeds
from ._http import RetryPolicy, Transport
from ._job import Job
from ._journal import Journal, default_journal
from ._loop import cancel_owned, run_sync
from ._media import prepare_media
from ._outputs import Output
from ._polling import PollingPolicy, RunTimeHistory, state_name
from .config import SIM_TOKEN, Endpoint, Secret, check_base, resolve, settings, simulator_endpoint
from .errors import ConfigError, InputValidationError, NotFoundError, RunComfyError

if TYPE_CHECKING:
    import httpx


class Client:
    """One endpoint (the RunComfy API or the simulator), one connection pool, on the background loop.

    `rc.Client()` reads the token from RUNCOMFY_API_TOKEN / RUNCOMFY_API_KEY / RUNCOMFY_TOKEN, or uses the
    simulator once `rc.sim.start()` / `%runcomfy sim on` started it. The token is never shown.
    """

    #: After a catalog look-up failed for a passing reason, the fallback answers for this long, then it is retried.
    schema_retry_after = 30.0

    def __init__(self, token: str | Secret | None = None, base_url: str | None = None, *,
                 retry: RetryPolicy | None = None, timeout: float | httpx.Timeout | None = None,
                 journal: Journal | None = None, endpoint: Endpoint | None = None) -> None:
        if isinstance(token, str):  # wrapped before anything can fail: no plain token in a traceback's locals
            token = Secret(token.strip())
        self.endpoint = endpoint or resolve(token, base_url)
        self.transport = Transport(self.endpoint, retry=retry, timeout=timeout)
        self._journal = journal
        self._schemas: dict[str, dict[str, Any] | None] = {}  # model_id -> raw schema, as the API answered
        self._schema_misses: dict[str, float] = {}  # model_id -> when (monotonic) the catalog last failed
        self._schema_lock = threading.Lock()
        self._policy: PollingPolicy | None = None
        self._policy_lock = threading.Lock()
        _owners[id(self.transport)] = self

    def __repr__(self) -> str:
        endpoint = getattr(self, "endpoint", None)  # a traceback may show a Client whose __init__ failed
        if endpoint is None:
            return "<runcomfy_nb.Client (not configured)>"
        return f"<runcomfy_nb.Client {'simulator' if endpoint.simulator else 'api'} {endpoint.base_url}>"

    @property
    def journal(self) -> Journal:
        """Where this client's jobs are recorded (the process-wide journal unless one was given)."""
        return self._journal or default_journal()

    @property
    def policy(self) -> PollingPolicy:
        """This endpoint's polling policy: what earlier jobs taught, read from the journal on first use (the jobs
        put it back on record as they learn)."""
        with self._policy_lock:
            if self._policy is None:
                try:
                    saved = self.journal.get_state(state_name(self.endpoint.base_url))
                except Exception:  # an unreadable journal only costs the schedule its head start
                    saved = None
                self._policy = PollingPolicy(RunTimeHistory.from_json(saved))
            return self._policy

    @property
    def simulator(self) -> bool:
        """True when this client talks to the offline simulator."""
        return self.endpoint.simulator

    # --- schemas -------------------------------------------------------------------------------------------

    def schema(self, model_id: str) -> dict[str, Any] | None:
        """The model's raw input schema: the catalog's when the API answers, else the shipped one, else None.

        An answer of the API (the schema, or "no such model") is kept; after a passing failure (offline, 5xx)
        the shipped schema stands in and the catalog is asked again later (`schema_retry_after`).
        """
        with self._schema_lock:
            if model_id in self._schemas:
                return self._schemas[model_id]
            failed_at = self._schema_misses.get(model_id)
        if failed_at is not None and time.monotonic() - failed_at < self.schema_retry_after:
            return schemas.shipped_schema(model_id)
        found: dict[str, Any] | None = None
        answered = True
        try:
            entry = run_sync(self.transport.get_model(model_id), timeout=15)
            candidate = entry.get("input_schema") if isinstance(entry, dict) else None
            if isinstance(candidate, dict) and isinstance(candidate.get("properties"), dict):
                found = candidate
        except NotFoundError:  # the catalog does not list it: the shipped schema decides
            pass
        except Exception:  # offline, no catalog on this endpoint, a 5xx: decide later, use what ships now
            answered = False
        if found is None:
            found = schemas.shipped_schema(model_id)
        with self._schema_lock:
            if answered:
                self._schemas[model_id] = found
                self._schema_misses.pop(model_id, None)
            else:
                self._schema_misses[model_id] = time.monotonic()
        return found

    def models(self, search: str | None = None) -> list[dict[str, Any]]:
        """The catalog (model_id, display_name, kind, …) when the API has one, else the shipped models."""
        try:
            answer = run_sync(self.transport.list_models(search=search, limit=200), timeout=15)
            models = answer.get("models")
            if isinstance(models, list) and models:
                return models
        except Exception:
            pass
        return shipped_models(search)

    def display_name(self, model_id: str) -> str:
        """The model's human name (from the shipped catalog), else its id."""
        return schemas.display_name(model_id)

    def check(self, model_id: str, inputs: dict[str, Any], *, validate: bool | None = None) -> dict[str, Any]:
        """The inputs exactly as they would be sent: defaults applied, validated, media prepared.

        Raises InputValidationError naming the field, the rule and the value; nothing is sent.
        """
        validate = settings.validate if validate is None else validate
        raw = self.schema(model_id)
        if raw is None:
            if validate:  # an unknown model is a typo far more often than a model missing from the catalog
                raise schemas.unknown_model_error(model_id, [m["model_id"] for m in self.models()])
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

    def _job(self, model_id: str, inputs: dict[str, Any]) -> Job:
        return Job(model_id, inputs, transport=self.transport, journal=self.journal, policy=self.policy)

    def start(self, model_id: str, inputs: dict[str, Any] | None = None, /, *, validate: bool | None = None,
              fresh: bool = False, **kwargs: Any) -> Job:
        """Validate, then submit in the background; returns the Job at once (status "submitting").

        An earlier completed job with the same inputs (seed set) is returned instead, `job.reused`, unless
        `fresh=True`; see runcomfy_nb.reuse. A seed may be an `rc.seed_control(...)`."""
        if inputs is not None and not isinstance(inputs, Mapping):
            raise InputValidationError(f"inputs: type — must be a mapping of field names to values; got "
                                       f"{type(inputs).__name__}", field=None, rule="type", value=inputs)
        merged = seeds.resolve({**(inputs or {}), **kwargs})
        prepared = self.check(model_id, merged, validate=validate)
        earlier = reuse.before_submit(self, model_id, prepared, fresh=fresh)  # reuse, else the budget check
        if earlier is not None:
            return earlier
        job = self._job(model_id, prepared)
        job.journal.record_submitting(job.local_id, model_id, self.endpoint.base_url, self.simulator, prepared)
        _runner.start(job, prepared)
        return job

    def submit(self, model_id: str, inputs: dict[str, Any] | None = None, /, *, validate: bool | None = None,
               fresh: bool = False, **kwargs: Any) -> Job:
        """Validate, submit and return the Job once the API has accepted it (polling goes on in background)."""
        job = self.start(model_id, inputs, validate=validate, fresh=fresh, **kwargs)
        job._accepted.result()
        return job

    async def submit_async(self, model_id: str, inputs: dict[str, Any] | None = None, /, *,
                           validate: bool | None = None, fresh: bool = False, **kwargs: Any) -> Job:
        """`submit()` for async code: returns once the API has accepted the job."""
        job = self.start(model_id, inputs, validate=validate, fresh=fresh, **kwargs)
        await asyncio.shield(asyncio.wrap_future(job._accepted))  # cancelling this wait leaves the submit alone
        return job

    def run(self, model_id: str, inputs: dict[str, Any] | None = None, /, *, timeout: float | None = None,
            **kwargs: Any) -> list[Output]:
        """Submit and wait: the outputs."""
        return self.submit(model_id, inputs, **kwargs).wait(timeout)

    def attach(self, request_id: str, model_id: str | None = None) -> Job:
        """A Job for a request submitted earlier (this process or another one, from the journal).

        `request_id` may also be a journal row's local id. A job the journal knows as finished is restored from
        it (outputs, local copies kept by auto-save, the original timestamps) without asking the API again: its
        result URLs may have expired by now. A submit that never got a request_id comes back ended with its
        error (nothing to poll). Any other job is polled until it ends.
        """
        row = self.journal.get(request_id)
        if row is not None and row.get("base_url") and row["base_url"] != self.endpoint.base_url:
            # Never ask one API (with its token) about a job submitted to another.
            raise ConfigError(f"{request_id!r} was submitted to {row['base_url']}, not {self.endpoint.base_url}: "
                              f"use rc.Client(token=..., base_url={row['base_url']!r}).attach({request_id!r}), "
                              "with that base's own token", request_id=request_id)
        if row is None:  # made elsewhere: put it on record first, like a submit
            row = {"local_id": uuid.uuid4().hex, "request_id": request_id, "model_id": model_id or "unknown",
                   "status": "in_queue"}
            self.journal.record_submitting(row["local_id"], row["model_id"], self.endpoint.base_url, self.simulator, {})
            self.journal.update(row["local_id"], request_id=request_id, status="in_queue")
        job = Job.from_journal(row, transport=self.transport, journal=self.journal, policy=self.policy,
                               model_id=model_id)
        if job.needs_polling():
            _runner.follow(job)
        return job

    def sweep(self, model_id: str, inputs: dict[str, Any], **options: Any) -> Any:
        """Every list value is an axis: one job per combination (see `runcomfy_nb.sweeps.sweep`)."""
        from .sweeps import sweep

        return sweep(model_id, inputs, client=self, **options)

    def close(self) -> None:
        """Stop polling this client's jobs (they go on on the server; rc.attach picks them up) and close its pool."""
        cancel_owned(self.transport)
        run_sync(self.transport.aclose())
        run_sync(_flush(self.journal))  # on the loop, where the jobs queue their routine changes


async def _flush(journal: Journal) -> None:
    journal._flush_logged()


def _defaults(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: p.get("default") for k, p in (raw.get("properties") or {}).items() if isinstance(p, dict)}


def shipped_models(search: str | None = None) -> list[dict[str, Any]]:
    """The models whose schemas ship with the package (catalog entries without output schemas), filtered."""
    models = [{k: v for k, v in m.items() if k != "output_schema"} for m in schemas.shipped_models()]
    if search:
        models = [m for m in models if search.lower() in (m["model_id"] + m["display_name"]).lower()]
    return models


_owners: weakref.WeakValueDictionary[int, Client] = weakref.WeakValueDictionary()  # id(transport) -> its client


def client_of(job: Job) -> Client | None:
    """The client that made (or attached) a job, while it exists (the job itself holds only the transport)."""
    client = _owners.get(id(job.transport))
    return client if client is not None and client.transport is job.transport else None


# --- one client per endpoint for the entry points (rc.*, magics, forms) -------------------------------------

_clients: dict[Endpoint, Client] = {}
_clients_lock = threading.Lock()


def default_client() -> Client:
    """The client for the current default endpoint (simulator if started, else the environment's token)."""
    return _client_of(resolve())


def _client_of(endpoint: Endpoint) -> Client:
    with _clients_lock:
        client = _clients.get(endpoint)
        if client is None:
            client = _clients[endpoint] = Client(endpoint=endpoint)
        return client


def client_for(row: dict[str, Any]) -> Client:
    """The client to re-attach a journal row with: the one for that row's endpoint, with that endpoint's token.

    A simulator job gets the simulator's token only, never the real one: whatever listens on that old loopback
    port now (another simulator, or anything else) learns nothing of value. The environment's token goes only
    to the configured base; a job journaled for another base needs that base's own credentials
    (`Client(token=..., base_url=...).attach`), and `resolve` says so."""
    try:
        if row["simulator"]:
            endpoint = simulator_endpoint()
            if endpoint is None or endpoint.base_url != row["base_url"]:
                check_base(row["base_url"])
                endpoint = Endpoint(row["base_url"], Secret(SIM_TOKEN), simulator=True)
        else:
            endpoint = resolve(base_url=row["base_url"])
    except RunComfyError as error:
        raise RunComfyError(f"Cannot re-attach: {error}", request_id=row.get("request_id")) from None
    return _client_of(endpoint)


def close_default_clients() -> None:
    """Close every default client (their jobs stop being followed here); the next use makes a fresh one."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
