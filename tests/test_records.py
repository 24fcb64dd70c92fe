"""rc.jobs() rows read as a table: dates, prompt, status, time, cost, thumbnails; never inline media bytes."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from runcomfy_nb._journal import Journal
from runcomfy_nb.records import JobList, summary

T0 = 1_800_000_000.0
INLINE = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"\x00" * 3000).decode()
THUMB = {"src": "data:image/webp;base64,UklGRg==", "width": 256, "height": 144}


def _journal(tmp_path: Path) -> Journal:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.record_submitting("l1", "wan-ai/wan-2-5/text-to-image", "http://127.0.0.1:1", True,
                              {"prompt": "a red fox at dawn", "image_url": INLINE})
    journal.update("l1", request_id="f76f528849034b32", status="completed", created_at=T0, submitted_at=T0 + 0.2,
                   finished_at=T0 + 4.4, outputs=[{"url": "http://127.0.0.1:1/o.png", "kind": "image",
                                                   "local": "runcomfy_outputs/o.png", "thumb": THUMB}])
    journal.record_submitting("l2", "community/wan-2-1/fusionx/image-to-video", "http://127.0.0.1:1", True,
                              {"600_prompt": "the fox <b>turns</b>\x1b[2J", "608_image": INLINE})
    journal.update("l2", request_id="r2", status="in_queue", created_at=T0 + 10)
    return journal


def test_journal_rows_read_as_a_table(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    rows = JobList(journal.list())
    journal.close()
    assert [r["request_id"] for r in rows] == ["r2", "f76f528849034b32"]  # still the journal's dicts
    text = repr(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["when", "model", "prompt", "status", "time", "cost", "results", "request"]
    when = datetime.fromtimestamp(T0 + 0.2).strftime("%Y-%m-%d %H:%M")
    assert when in lines[2] and "a red fox at dawn" in lines[2] and "completed" in lines[2] and "4.2 s" in lines[2]
    assert "1 image" in lines[2] and "f76f5288…" in lines[2]
    assert "in queue" in lines[1] and "\x1b" not in text and "the fox <b>turns</b> [2J" in lines[1]
    assert "base64" not in text and "iVBOR" not in text
    page = rows._repr_html_()
    assert "base64,AAAA" not in page and INLINE[:60] not in page
    assert '<img src="data:image/webp;base64,UklGRg=="' in page and 'href="runcomfy_outputs/o.png"' in page
    assert "&lt;b&gt;turns&lt;/b&gt;" in page and "<b>turns" not in page
    assert repr(JobList()) == "(no jobs in the journal)"


def test_filters_and_cost(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    rows = JobList(journal.list())
    journal.close()
    assert [r["local_id"] for r in rows.filter(model="VIDEO")] == ["l2"]
    assert [r["local_id"] for r in rows.filter(text="Red Fox")] == ["l1"]
    assert [r["local_id"] for r in rows.filter(text="f76f52")] == ["l1"]
    assert [r["local_id"] for r in rows.filter(status="in_queue")] == ["l2"]
    assert rows.filter(text="nothing") == []
    assert summary({"cost": 0.04})["cost"] == "$0.04" and summary({"cost": 1})["cost"] == "$1"


def test_pages_and_gallery_items_never_carry_inline_bytes(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    rows = JobList(journal.list())
    journal.close()
    assert [r["local_id"] for r in rows.page(0, 1)] == ["l2"] and [r["local_id"] for r in rows.page(1, 1)] == ["l1"]
    assert rows.page(5, 10) == []
    items = rows.gallery_items()
    import json

    assert "AAAA" not in json.dumps(items)
    fox = items[1]
    assert fox["inputs"] == {"prompt": "a red fox at dawn"} and fox["inline_media"]["image_url"]["mime"] == "image/png"
    assert fox["outputs"][0]["thumb"] == THUMB and fox["summary"]["status"] == "completed"
    import pytest

    with pytest.raises(ValueError, match="page index must be"):
        rows.page(-1)
