"""Reuse instead of paying twice: a submit whose validated inputs equal a completed job's returns that job.

Only when the result is deterministic — the model has a seed field and the inputs set it — and the earlier
job's outputs are still there: every output saved locally, or its URL still answering. `fresh=True` always sends.
The match is on the model id, the endpoint and the canonical JSON of the inputs exactly as they were sent
(defaults applied, media prepared; large data: URIs by digest, as the journal keeps them).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import costs, schemas
from .journal import _digest_big_media
from .loop import in_loop_thread, run_sync
from .seeds import seed_field

if TYPE_CHECKING:
    from .api import Client
    from .job import Job


def canonical(model_id: str, inputs: dict[str, Any]) -> str:
    """The reuse key: model id and inputs as canonical JSON (sorted keys, no spaces, big media by digest)."""
    return json.dumps([model_id, _digest_big_media(inputs)], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)


def deterministic(client: Client, model_id: str, inputs: dict[str, Any]) -> bool:
    """True when the model has a seed field and these inputs set it (so the same inputs give the same result)."""
    raw = client.schema(model_id)
    key = seed_field(schemas.normalise(raw)) if raw else None
    return key is not None and isinstance(inputs.get(key), int) and not isinstance(inputs.get(key), bool)


async def _url_answers(client: Client, url: str) -> bool:
    try:
        return (await client.api.download(url)).is_success
    except Exception:
        return False


def _available(client: Client, candidates: list[list[dict[str, Any]]]) -> list[bool]:
    """For each candidate's outputs: all of them saved locally or still answering at their URL (checked at once)."""
    checks: list[tuple[int, str]] = []
    ok = [bool(outputs) for outputs in candidates]
    for index, outputs in enumerate(candidates):
        for item in outputs:
            saved = item.get("saved_path")
            if saved and Path(saved).is_file():
                continue
            url = item.get("url")
            if not isinstance(url, str) or in_loop_thread():  # no network from the loop thread: not reusable
                ok[index] = False
            else:
                checks.append((index, url))
    if checks:
        async def check_all() -> list[bool]:
            return list(await asyncio.gather(*(_url_answers(client, url) for _, url in checks)))

        for (index, _), answered in zip(checks, run_sync(check_all(), timeout=60), strict=True):
            ok[index] = ok[index] and answered
    return ok


def find_many(client: Client, model_id: str, prepared: list[dict[str, Any]]) -> list[Job | None]:
    """For each inputs dict: the completed earlier job to reuse (restored from the journal), or None."""
    wanted: dict[str, list[int]] = {}
    for index, inputs in enumerate(prepared):
        if deterministic(client, model_id, inputs):
            wanted.setdefault(canonical(model_id, inputs), []).append(index)
    found: list[Job | None] = [None] * len(prepared)
    if not wanted:
        return found
    base = client.endpoint.base_url
    rows: dict[str, dict[str, Any]] = {}  # key -> the newest completed row with those inputs
    for row in client.journal.list(limit=None, model_id=model_id):  # newest first
        if row["status"] != "completed" or row["base_url"] != base or not row.get("request_id"):
            continue
        key = canonical(model_id, row["inputs"])
        if key in wanted and key not in rows and row.get("outputs"):
            rows[key] = row
            if len(rows) == len(wanted):
                break
    keys = list(rows)
    for key, usable in zip(keys, _available(client, [rows[k]["outputs"] for k in keys]), strict=True):
        if not usable:
            continue
        row = rows[key]
        for index in wanted[key]:
            job = client.attach(row["request_id"])
            if job.status != "completed":
                break
            job.reused = True
            job.reused_from = row.get("finished_at")
            job.cost = costs.cost_of(client, row["request_id"])
            found[index] = job
    return found


def before_submit(client: Client, model_id: str, prepared: dict[str, Any], *, fresh: bool) -> Job | None:
    """The hook in `Client.start`: an earlier job to return instead of sending, else check the budget."""
    if not fresh:
        earlier = find_many(client, model_id, [prepared])[0]
        if earlier is not None:
            return earlier
    costs.check_budget(client, model_id)
    return None
