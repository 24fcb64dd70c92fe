"""A change to one of many runs (a form's history) or cells (a sweep's grid) sends that entry alone over the
widget's comm, not the whole list (runcomfy_nb.widgets.ItemUpdates); the trait still has every entry's latest
state for a view that renders later. The comm is real (ipywidgets over `comm` or ipykernel), only its messages are recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from comm.base_comm import BaseComm
from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb import _loop
from runcomfy_nb.widgets import job_state

DREAMINA = "bytedance/dreamina-4-0/text-to-image"
KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"
RUNS = 100


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every comm message a widget sends is also kept on its comm as (type, data, size in bytes as JSON). Recorded
    at BaseComm.send, which both ipywidgets' comms share: `comm`'s (ipywidgets >= 8.0.3) and ipykernel's (8.0.0)."""
    send = BaseComm.send

    def recording_send(self: BaseComm, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.__dict__.setdefault("sent", []).append(("comm_msg", data or {}, len(json.dumps(data, default=str))))
        send(self, data=data, metadata=metadata, buffers=buffers)

    monkeypatch.setattr(BaseComm, "send", recording_send)


def comm_messages(widget: Any) -> list[tuple[str, dict[str, Any], int]]:
    """What the widget's comm sent so far (the `recorded` fixture)."""
    return widget.comm.__dict__.setdefault("sent", [])


def _since(widget: Any, start: int) -> list[tuple[str, dict[str, Any], int]]:
    return comm_messages(widget)[start:]


async def _note(job: Any, text: str) -> None:
    job._set(cancel_note=text)


@pytest.mark.slow  # a hundred real jobs through the simulator: full tier only (the sweep cell test stays in the unit tier)
def test_one_run_of_a_hundred_changes_and_only_it_goes_over_the_comm(recorded: None, sim: Any) -> None:
    from conftest import TEST_TOKEN

    sim.configure(time_scale=0.0, workers=8)
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url)
    try:
        form = rc.form(DREAMINA, client=client)
        jobs = []
        for n in range(RUNS):
            form.values = {**form.values, "prompt": f"a paper crane number {n}"}
            jobs.append(form.submit())
        for job in jobs:
            assert job is not None and job.wait(timeout=120)
        whole = len(json.dumps(form.history, default=str))
        start = len(comm_messages(form))
        _loop.run_sync(_note(jobs[40], "not cancellable — already running"), timeout=30)
        sent = _since(form, start)
        assert [(t, d["method"], d["content"]["type"]) for t, d, _ in sent] == \
            [("comm_msg", "custom", "item")]  # one message, no state update of the list
        content = sent[0][1]["content"]
        index = RUNS - 1 - 40  # newest first
        assert content["index"] == index and content["trait"] == "history"
        assert content["item"]["local_id"] == jobs[40].local_id
        assert content["item"]["cancel_note"] == "not cancellable — already running"
        assert sent[0][2] < 3 * whole / RUNS, (sent[0][2], whole)  # about one entry's size, not a hundred
        # the trait has it (changed in place): what a second view or a reloaded page reads
        state = form.get_state()["history"]
        assert state[index] == content["item"]
        assert {k: v for k, v in state[index].items() if k != "rev"} == job_state(jobs[40], form._labels)
        # a page reload asks for the whole state: it comes with the latest entry
        start = len(comm_messages(form))
        form._handle_msg({"content": {"data": {"method": "request_state"}}})
        (reply,) = [d for t, d, _ in _since(form, start) if d.get("method") == "update"]
        assert reply["state"]["history"][index]["cancel_note"] == "not cancellable — already running"
        # the same state again sends nothing
        start = len(comm_messages(form))
        _loop.run_sync(_note(jobs[40], "not cancellable — already running"), timeout=30)
        assert _since(form, start) == []
        # a new run still sends the list, once
        form.values = {**form.values, "prompt": "one more"}
        start = len(comm_messages(form))
        assert form.submit().wait(timeout=60)
        updates = [d for t, d, _ in _since(form, start) if d.get("method") == "update" and "history" in d["state"]]
        assert len(updates) == 1 and len(updates[0]["state"]["history"]) == RUNS + 1
    finally:
        client.close()


def test_the_saved_copy_is_not_sent_again_for_what_it_does_not_show(recorded: None, client: Any, sim: Any) -> None:
    sim.configure(time_scale=0.0)
    form = rc.form(DREAMINA, client=client, prompt="a paper crane")
    form._fallback_handle = object()  # displayed: refreshes would go out
    refreshed: list[int] = []
    form._refresh_fallback = lambda: refreshed.append(len(form.jobs))  # type: ignore[method-assign]
    job = form.submit()
    assert job is not None and job.wait(timeout=60)
    _loop.run_sync(_settled(), timeout=30)
    assert refreshed and refreshed[-1] == 1  # the finished run is in the copy
    count = len(refreshed)
    for n in range(5):  # a note (like a queue position) is not in the copy: no new copy
        _loop.run_sync(_note(job, f"note {n}"), timeout=30)
    _loop.run_sync(_settled(), timeout=30)
    assert len(refreshed) == count


async def _settled() -> None:
    import asyncio

    await asyncio.sleep(0.05)  # a refresh planned with call_later(0) has run


def test_one_cell_of_a_hundred_changes_and_only_it_goes_over_the_comm(recorded: None, sim: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import TEST_TOKEN

    from runcomfy_nb import sweepview
    from runcomfy_nb.sweepview import SweepView

    sim.configure(time_scale=0.0, workers=8)
    client = rc.Client(token=TEST_TOKEN, base_url=sim.base_url)
    try:
        sweep = client.sweep(KONTEXT, {"prompt": "p", "seed": list(range(RUNS)),
                                       "image_url": Image.new("RGB", (16, 16), (200, 30, 30))})
        sweep.wait(timeout=120)
        view = SweepView(sweep)
        whole = len(json.dumps(view.cells, default=str))
        cell = sweep.cells[57]
        rendered: list[int] = []
        real = sweepview.cell_state
        monkeypatch.setattr(sweepview, "cell_state", lambda c, labels: rendered.append(c.index) or real(c, labels))
        start = len(comm_messages(view))
        _loop.run_sync(_cell_note(cell.job, "failed to say something"), timeout=30)
        _loop.run_sync(_settled(), timeout=30)  # the grid coalesces a loop iteration's changes
        sent = _since(view, start)
        items = [d["content"] for _t, d, _ in sent if d.get("method") == "custom"]
        lists = [d for _t, d, _ in sent if "cells" in d.get("state", {})]
        assert lists == [] and [(i["trait"], i["index"]) for i in items] == [("cells", 57)]
        assert items[0]["item"]["error"] == "failed to say something"
        assert rendered == [57]  # the other 99 cells are not rendered again
        assert sum(size for *_, size in sent) < 3 * whole / RUNS, (sent, whole)
        assert view.get_state()["cells"][57]["error"] == "failed to say something"  # for a later view
    finally:
        client.close()


async def _cell_note(job: Any, text: str) -> None:
    job._set(error=text)
