"""The `rc.*` functions (entry points): the default client's submit, models, schema, jobs and attach."""

from __future__ import annotations

from typing import Any

from . import schemas
from ._client import client_for, default_client, shipped_models
from ._job import Job
from ._journal import default_journal
from .errors import ConfigError, NotFoundError
from .records import JobList


def submit(model_id: str, inputs: dict[str, Any] | None = None, /, **kwargs: Any) -> Job:
    """Validate and submit with the default client; returns the Job once the API accepted it."""
    return default_client().submit(model_id, inputs, **kwargs)


def models(search: str | None = None) -> list[dict[str, Any]]:
    """The models you can run (the catalog, or the shipped ones offline), optionally filtered by `search`."""
    try:
        return default_client().models(search)
    except ConfigError:  # no token and no simulator: the shipped catalog still answers
        return shipped_models(search)


def schema(model_id: str) -> dict[str, Any] | None:
    """The model's raw input schema (catalog, else shipped), or None when it is unknown."""
    try:
        return default_client().schema(model_id)
    except ConfigError:
        return schemas.shipped_schema(model_id)


def jobs(limit: int | None = 50, model_id: str | None = None) -> JobList:
    """The journal, newest first: request_id, model_id, status, inputs, outputs, timestamps, base_url.

    A list of dicts that reads as a table (text in a terminal; with result thumbnails in a notebook)."""
    return JobList(default_journal().list(limit=limit, model_id=model_id))


def attach(request_id: str) -> Job:
    """Re-attach to a job from the journal (by request_id or local id, e.g. after a kernel restart)."""
    row = default_journal().get(request_id)
    if row is None:
        raise NotFoundError(f"{request_id!r} is not in the journal ({default_journal().path}); "
                            "use Client().attach(request_id, model_id) for a request made elsewhere",
                            request_id=request_id)
    return client_for(row).attach(request_id)
