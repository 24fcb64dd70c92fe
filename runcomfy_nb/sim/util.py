"""Small stdlib helpers shared by the simulator modules (cheap to import)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any


def canonical_json(value: Any) -> bytes:
    """The canonical encoding the counters hash: sorted keys, no spaces, UTF-8 (keys kept byte-for-byte)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def body_sha256(value: Any) -> str:
    """sha256 of a submit body as the simulator counts it (`counters()["bodies"]`, `jobs()[i]["inputs_sha256"]`).

    `value` is the decoded JSON body (a dict of inputs); raw `bytes` that are not JSON are hashed as they are.
    """
    if isinstance(value, (bytes, bytearray)):
        try:
            value = json.loads(value)
        except ValueError:
            return hashlib.sha256(bytes(value)).hexdigest()
    return hashlib.sha256(canonical_json(value)).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 with microseconds and offset, e.g. 2025-01-02T03:04:05.000000+00:00."""
    return moment.isoformat(timespec="microseconds") if moment is not None else None
