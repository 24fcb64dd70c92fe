"""The request_id's group commit (`Journal.commit_soon`): the accepts of one loop turn share one commit, each
caller hears only once its change is on disk, and a failed commit keeps the changes queued."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from runcomfy_nb._journal import Journal

MODEL = "wan-ai/wan-2-5/text-to-image"


def _journal(tmp_path: Path, count: int) -> Journal:
    journal = Journal(tmp_path / "journal.sqlite3")
    for i in range(count):
        journal.record_submitting(f"l{i}", MODEL, "http://127.0.0.1:1", True, {})
    return journal


def test_changes_of_one_loop_turn_share_one_commit(tmp_path: Path) -> None:
    journal = _journal(tmp_path, 20)
    before = journal.commits

    async def accept_all() -> list[str | None]:
        waits = [journal.commit_soon(f"l{i}", request_id=f"r{i}", status="in_queue") for i in range(20)]
        assert journal.commits == before  # nothing written in this turn
        on_disk = []
        for done in waits:
            await done
            on_disk.append((journal.get(f"r{len(on_disk)}") or {}).get("status"))
        return on_disk

    assert asyncio.run(accept_all()) == ["in_queue"] * 20  # each caller resumes with its row on disk
    assert journal.commits - before == 1


def test_a_failed_group_commit_is_reported_and_kept_queued(tmp_path: Path) -> None:
    journal = _journal(tmp_path, 3)

    async def accept_while_full() -> None:
        with journal._db() as db:
            db.execute("PRAGMA query_only = ON")  # every write now fails, like a full disk
        waits = [journal.commit_soon(f"l{i}", request_id=f"r{i}") for i in range(3)]
        for done in waits:
            with pytest.raises(sqlite3.Error):
                await done
        with journal._db() as db:
            db.execute("PRAGMA query_only = OFF")

    asyncio.run(accept_while_full())
    assert journal.get("r0") is None  # not written...
    journal.flush()  # ...but still queued: the next write carries it
    assert [journal.get(f"r{i}")["local_id"] for i in range(3)] == ["l0", "l1", "l2"]  # type: ignore[index]
