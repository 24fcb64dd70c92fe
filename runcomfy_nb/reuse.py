"""Reuse instead of paying twice: a submit whose validated inputs equal a completed job's returns that job.

Only when the result is deterministic — the model has a seed field and the inputs set it — and the earlier
job's outputs are still there: every output saved locally, or its URL still answering. `fresh=True` always sends.
The match is on the model id, the endpoint and the canonical JSON of the inputs exactly as they were sent
(defaults applied, media prepared; large data: URIs by digest, as the journal keeps them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import costs, schemas
from ._journal import _digest_big_media
from ._loop import in_loop_thread, run_sync
from .seeds import seed_field

if TYPE_CHECKING:
    from ._client import Client
    from ._job import Job


def canonical(model_id: str, inputs: dict[str, Any]) -> str:
    """The reuse key: model id and inputs as canonical JSON (sorted keys, no spaces, big media by digest)."""
    return json.dumps([model_id, _digest_big_media(inputs)], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)


_seed_fields: dict[str, tuple[Any, str | None]] = {}  # model_id -> (the schema object it was found in, field)


def _seed_field_of(client: Client, model_id: str) -> str | None:
    raw = client.schema(model_id)
    known = _seed_fields.get(model_id)
    if known is not None and known[0] is raw:  # same schema object: no need to normalise it again (every submit)
        return known[1]
    field = seed_field(schemas.normalise(raw)) if raw else None
    _seed_fields[model_id] = (raw, field)
    return field


def deterministic(client: Client, model_id: str, inputs: dict[str, Any]) -> bool:
    """True when the model has a seed field and these inputs set it (so the same inputs give the same result)."""
    key = _seed_field_of(client, model_id)
    return key is not None and isinstance(inputs.get(key), int) and not isinstance(inputs.get(key), bool)


async def _url_answers(client: Client, url: str) -> bool:
    try:
        return await client.transport.output_answers(url)  # the status only: no output is downloaded to check it
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


def _completed_rows(client: Client, model_id: str, seed_key: str | None, seeds: list[int]) -> list[dict[str, Any]]:
    """Completed journal rows of this model and endpoint with one of these seeds, newest first.

    Filtered in SQLite (JSON1) so a submit stays fast with thousands of rows in the journal; without JSON1, the
    journal's own listing, filtered here.
    """
    base = client.endpoint.base_url
    if seed_key is not None and seeds:
        path = "$." + json.dumps(seed_key)  # '$."598_seed"'
        try:
            with contextlib.closing(sqlite3.connect(client.journal.path, timeout=30)) as db:
                found = db.execute(
                    "SELECT request_id, inputs, outputs, finished_at FROM jobs WHERE model_id = ? AND base_url = ? "
                    f"AND status = 'completed' AND json_extract(inputs, ?) IN ({', '.join('?' * len(seeds))}) "
                    "ORDER BY finished_at DESC", (model_id, base, path, *seeds)).fetchall()
            return [{"request_id": r[0], "inputs": json.loads(r[1]), "outputs": json.loads(r[2] or "[]"),
                     "finished_at": r[3]} for r in found]
        except sqlite3.Error:
            pass
    return [row for row in client.journal.list(limit=None, model_id=model_id)
            if row["status"] == "completed" and row["base_url"] == base]


def find_many(client: Client, model_id: str, prepared: list[dict[str, Any]]) -> list[Job | None]:
    """For each inputs dict: the completed earlier job to reuse (restored from the journal), or None."""
    wanted: dict[str, list[int]] = {}
    for index, inputs in enumerate(prepared):
        if deterministic(client, model_id, inputs):
            wanted.setdefault(canonical(model_id, inputs), []).append(index)
    found: list[Job | None] = [None] * len(prepared)
    if not wanted:
        return found
    seed_key = _seed_field_of(client, model_id)
    seeds = sorted({prepared[i][seed_key] for indices in wanted.values() for i in indices}) if seed_key else []
    rows: dict[str, dict[str, Any]] = {}  # key -> the newest completed row with those inputs
    for row in _completed_rows(client, model_id, seed_key, seeds):  # newest first
        if not row.get("request_id"):
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
            job.inputs = dict(prepared[index])  # as sent now: the journal keeps big media by digest only
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
