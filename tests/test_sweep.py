"""Sweeps, reuse, seed control and cost against the real simulator over loopback."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from PIL import Image

import runcomfy_nb as rc
from runcomfy_nb import costs
from runcomfy_nb._http import RetryPolicy
from runcomfy_nb._loop import run_sync
from runcomfy_nb.config import settings
from runcomfy_nb.sweeps import Cell, differing, find_axes, vary

KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"
WAN = "wan-ai/wan-2-5/text-to-image"
RED = Image.new("RGB", (64, 48), (200, 30, 30))
PROMPTS = ["make it winter", "make it night", "make it a watercolour"]
SEEDS = [1, 2, 3, 4]


@pytest.fixture(autouse=True)
def default_settings() -> Any:
    saved = (settings.max_in_flight, settings.max_in_flight_total, settings.budget_usd)
    yield
    settings.max_in_flight, settings.max_in_flight_total, settings.budget_usd = saved


def kontext_inputs() -> dict[str, Any]:
    return {"prompt": list(PROMPTS), "seed": list(SEEDS), "image_url": RED, "aspect_ratio": "1:1"}


def test_three_prompts_by_four_seeds_complete_in_product_order_within_the_cap(client: Any, sim: Any) -> None:
    sw = client.sweep(KONTEXT, kontext_inputs(), max_in_flight=3)
    assert list(sw.axes) == ["prompt", "seed"] and sw.shape == (3, 4)
    sw.wait(timeout=120)
    assert [j.status for j in sw.jobs] == ["completed"] * 12
    sent = [(j.inputs["prompt"], j.inputs["seed"]) for j in sw.jobs]
    assert sent == [(p, s) for p in PROMPTS for s in SEEDS]  # first axis slowest
    assert all(len(j.outputs) == 1 for j in sw.jobs) and len(sw.outputs) == 12
    counters = sim.counters()
    assert counters["submits_accepted"] == 12
    assert 1 <= counters["max_unfinished"] <= 3 and sw.max_seen_in_flight <= 3
    # the server's own record of the seed it ran with matches each cell
    by_id = {j["request_id"]: j for j in sim.jobs()}
    assert all(j.request_id in by_id for j in sw.jobs)


def test_each_job_has_a_cost_and_the_sweep_cost_is_their_sum(client: Any) -> None:
    sw = client.sweep(KONTEXT, {"prompt": ["a", "b"], "seed": 5, "image_url": RED})
    sw.wait(timeout=60)
    costs = [j.cost for j in sw.jobs]
    assert all(isinstance(c, float) and c > 0 for c in costs)
    assert sw.cost == pytest.approx(sum(costs))
    totals = rc.spend(client)  # this client is not flagged as a simulator: its costs count as the API's
    assert totals["kernel"] >= sw.cost - 1e-9
    assert totals["all_time"] == pytest.approx(sw.cost) == totals["today"] and totals["jobs"] == 2
    assert totals["simulator_all_time"] == 0.0
    assert "$" in repr(sw)


def test_the_same_sweep_again_sends_nothing_and_fresh_sends_everything(client: Any, sim: Any) -> None:
    first = client.sweep(KONTEXT, kontext_inputs(), max_in_flight=4)
    first.wait(timeout=120)
    assert sim.counters()["submits_accepted"] == 12
    again = client.sweep(KONTEXT, kontext_inputs())
    again.wait(timeout=30)
    assert sim.counters()["submits_received"] == 12  # not one more
    assert all(j.reused and j.status == "completed" and j.outputs for j in again.jobs)
    assert [j.request_id for j in again.jobs] == [j.request_id for j in first.jobs]
    assert again.outputs[0].read()[:8] == b"\x89PNG\r\n\x1a\n"
    assert again.cost == pytest.approx(first.cost)
    fresh = client.sweep(KONTEXT, kontext_inputs(), fresh=True)
    fresh.wait(timeout=120)
    assert sim.counters()["submits_accepted"] == 24
    assert not any(j.reused for j in fresh.jobs)


def test_reuse_needs_a_seed_and_outputs_that_still_exist(client: Any, sim: Any) -> None:
    job = client.submit(KONTEXT, prompt="x", image_url=RED, seed=7)
    job.wait(timeout=60)
    same = client.submit(KONTEXT, prompt="x", image_url=RED, seed=7)
    assert same.reused and same.request_id == job.request_id and sim.counters()["submits_received"] == 1
    unseeded = client.submit(KONTEXT, prompt="x", image_url=RED)  # no seed set: not deterministic
    assert not unseeded.reused
    unseeded.wait(timeout=60)
    no_seed_model = client.submit(WAN, prompt="a fox")
    no_seed_model.wait(timeout=60)
    fox_again = client.submit(WAN, prompt="a fox")
    assert not fox_again.reused  # the model has no seed field
    fox_again.wait(timeout=60)
    sim.expire_outputs()  # the URLs are gone and nothing was saved locally: pay again
    again = client.submit(KONTEXT, prompt="x", image_url=RED, seed=7)
    assert not again.reused and again.request_id != job.request_id
    again.wait(timeout=60)


def test_reuse_checks_an_earlier_output_without_downloading_it(client: Any, sim: Any) -> None:
    job = client.submit(KONTEXT, prompt="head only", image_url=RED, seed=9)
    job.wait(timeout=60)
    before = dict(sim.counters()["requests"])
    same = client.submit(KONTEXT, prompt="head only", image_url=RED, seed=9)
    after = sim.counters()["requests"]
    assert same.reused and same.request_id == job.request_id
    # one HEAD per output, no GET: the check read no picture
    assert after["HEAD media"] - before["HEAD media"] == len(job.outputs) >= 1
    assert after["GET media"] == before["GET media"]
    # where HEAD is not allowed, the fallback asks for the first byte, and the simulator sends just that
    url = job.outputs[0].url
    assert run_sync(client.transport._peek(url, "GET", {"Range": "bytes=0-0"}), timeout=60) == 206
    sim.expire_outputs()
    assert run_sync(client.transport.output_answers(url), timeout=60) is False


def test_a_locally_saved_copy_is_enough_to_reuse(client: Any, sim: Any, tmp_path: Path) -> None:
    settings.autosave_dir, saved = str(tmp_path), settings.autosave_dir
    try:
        client.submit(KONTEXT, prompt="y", image_url=RED, seed=8).wait(timeout=60)
    finally:
        settings.autosave_dir = saved
    sim.expire_outputs()
    again = client.submit(KONTEXT, prompt="y", image_url=RED, seed=8)
    assert again.reused and again.outputs[0].read()[:4] == b"\x89PNG"


def test_cancel_over_a_paused_queue_cancels_everything_and_leaves_nothing_queued(client: Any, sim: Any) -> None:
    sim.configure(paused=True)
    sw = client.sweep(KONTEXT, kontext_inputs(), max_in_flight=4, fresh=True)
    until(lambda: sw.counts()["in_queue"] == 4)
    assert sw.counts()["waiting"] == 8 and "8 waiting (not sent)" in repr(sw)
    assert isinstance(sw.jobs[-1], Cell) and sw.jobs[-1].status == "waiting"
    assert sw.cancel() == 12
    sw.wait(timeout=30)
    assert [j.status for j in sw.jobs] == ["cancelled"] * 12
    counters = sim.counters()
    assert counters["submits_received"] == 4 and counters["jobs"] == {"cancelled": 4}
    assert counters["max_unfinished"] == 4


def test_await_a_sweep(client: Any) -> None:
    sw = client.sweep(KONTEXT, {"prompt": "z", "seed": [1, 2], "image_url": RED})

    async def go() -> list[Any]:
        return await sw

    outputs = asyncio.run(go())
    assert len(outputs) == 2 and sw.done()


def test_a_429_slows_the_sweep_instead_of_failing_jobs(sim: Any) -> None:
    client = rc.Client(token="rc-test-token-7f3a9c", base_url=sim.base_url, retry=RetryPolicy(attempts=1))
    try:
        sim.configure(fail_next={"submit": 3}, fail_next_kind="429")
        sw = client.sweep(KONTEXT, {"prompt": "r", "seed": [1, 2, 3, 4], "image_url": RED}, max_in_flight=2)
        sw.wait(timeout=180)
        assert [j.status for j in sw.jobs] == ["completed"] * 4
        assert sw.rate_limited == 3 and sim.counters()["submits_accepted"] == 4
    finally:
        client.close()


def test_a_global_cap_holds_across_sweeps_of_one_client(client: Any, sim: Any) -> None:
    settings.max_in_flight_total = 3
    sim.configure(paused=True)
    a = client.sweep(KONTEXT, {"prompt": "a", "seed": [1, 2, 3], "image_url": RED}, max_in_flight=2)
    b = client.sweep(KONTEXT, {"prompt": "b", "seed": [1, 2, 3], "image_url": RED}, max_in_flight=2)
    until(lambda: sim.counters()["submits_accepted"] == 3)
    time.sleep(0.3)  # room for a wrong extra submit to show up
    assert sim.counters()["submits_accepted"] == 3
    sim.configure(paused=False)
    a.wait(timeout=120), b.wait(timeout=120)
    assert sim.counters()["max_unfinished"] == 3 and sim.counters()["submits_accepted"] == 6


def test_array_fields_are_not_axes_unless_wrapped() -> None:
    schema = {"properties": {"tags": {"type": "array", "items": {"type": "string"}}, "prompt": {"type": "string"}}}
    axes, common = find_axes({"tags": ["a", "b"], "prompt": ["x", "y"]}, schema)
    assert axes == {"prompt": ["x", "y"]} and common == {"tags": ["a", "b"]}
    axes, _ = find_axes({"tags": vary([["a"], ["b", "c"]]), "seed": range(1, 3)}, schema)
    assert axes == {"tags": [["a"], ["b", "c"]], "seed": [1, 2]}


def test_bad_combinations_are_refused_before_anything_is_sent(client: Any, sim: Any) -> None:
    with pytest.raises(rc.InputValidationError, match=r"aspect_ratio.*in the sweep's job 1: aspect_ratio='9:99'") as bad:
        client.sweep(KONTEXT, {"prompt": "p", "image_url": RED, "aspect_ratio": ["1:1", "9:99"]})
    assert (bad.value.field, bad.value.value) == ("aspect_ratio", "9:99") and bad.value.rule
    with pytest.raises(rc.InputValidationError, match="max_in_flight"):
        client.sweep(KONTEXT, {"prompt": "p", "image_url": RED}, max_in_flight=0)
    with pytest.raises(rc.InputValidationError, match="seed: axis"):
        client.sweep(KONTEXT, {"prompt": "p", "image_url": RED, "seed": []})
    assert sim.counters()["submits_received"] == 0


def test_save_names_say_which_cell(client: Any, tmp_path: Path) -> None:
    sw = client.sweep(KONTEXT, {"prompt": ["snow", "rain"], "seed": 3, "image_url": RED})
    sw.wait(timeout=60)
    paths = sw.save(tmp_path)
    assert [p.name.split("_")[:2] for p in paths] == [["000", "snow"], ["001", "rain"]]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)


def test_seed_control_fixed_increment_randomize(client: Any) -> None:
    inc = rc.seed_control("increment", 100)
    jobs = [client.start(KONTEXT, prompt="s", image_url=RED, seed=inc, fresh=True) for _ in range(3)]
    assert [rc.seeds.seed_of(j) for j in jobs] == [100, 101, 102] and inc.value == 103
    fixed = rc.seed_control("fixed", 5)
    assert [fixed.take(), fixed.take()] == [5, 5]
    rnd = rc.seed_control("randomize", 9)
    assert rnd.take() == 9 and 0 <= rnd.value <= 2**31 - 1
    sw = client.sweep(KONTEXT, {"prompt": ["a", "b", "c"], "seed": rc.seed_control("increment", 40), "image_url": RED})
    assert [j.inputs["seed"] for j in sw.jobs] == [40, 41, 42]
    sw.wait(timeout=60), [j.wait(timeout=60) for j in jobs]
    with pytest.raises(ValueError, match="mode must be one of"):
        rc.seed_control("sometimes")


def test_budget_refuses_before_sending(client: Any, sim: Any) -> None:
    client.submit(KONTEXT, prompt="b", image_url=RED, seed=1).wait(timeout=60)
    each = costs.estimate(client, KONTEXT)
    assert each and each > 0
    settings.budget_usd = costs.kernel_spend() + each * 2.5
    with pytest.raises(costs.BudgetExceededError, match=r"budget_usd: these 3 jobs would cost about \$"):
        client.sweep(KONTEXT, {"prompt": "b", "seed": [2, 3, 4], "image_url": RED})
    assert sim.counters()["submits_received"] == 1
    # the reused cell costs nothing, so 1 reused + 2 new fits
    ok = client.sweep(KONTEXT, {"prompt": "b", "seed": [1, 2, 3], "image_url": RED})
    ok.wait(timeout=60)
    assert ok.reused == 1 and sim.counters()["submits_received"] == 3
    with pytest.raises(costs.BudgetExceededError, match="this job would cost"):
        client.submit(KONTEXT, prompt="b", image_url=RED, seed=99)


def test_differing_part_of_long_prompts() -> None:
    parts = differing(["a photo of a red fox in the snow", "a photo of a grey wolf in the snow"])
    assert parts == [("a photo of a", "red fox", "in the snow"), ("a photo of a", "grey wolf", "in the snow")]


def test_a_refused_token_stops_the_sweep_after_one_submit(sim: Any) -> None:
    sim.configure(token="rc-test-token-7f3a9c")  # from now on the simulator refuses any other token
    bad = rc.Client(token="rc-wrong-token", base_url=sim.base_url)
    try:
        sw = bad.sweep(KONTEXT, {"prompt": "t", "seed": [1, 2, 3, 4, 5], "image_url": RED}, max_in_flight=1)
        sw.wait(timeout=60)
        assert [j.status for j in sw.jobs] == ["failed"] * 5
        assert sim.counters()["submits_received"] == 1
        assert all("not sent" in cell.error for cell in sw.cells[1:])
    finally:
        bad.close()
        sim.configure(token=None)


def test_seed_fields_of_the_shipped_models(client: Any) -> None:
    from runcomfy_nb.schemas import normalise
    from runcomfy_nb.seeds import seed_field

    found = {m: seed_field(normalise(client.schema(m))) for m in
             (KONTEXT, WAN, "bytedance/dreamina-4-0/text-to-image", "ideogram/ideogram-v3/reframe",
              "community/wan-2-1/fusionx/image-to-video")}
    assert found == {KONTEXT: "seed", WAN: None, "bytedance/dreamina-4-0/text-to-image": None,
                     "ideogram/ideogram-v3/reframe": "seed", "community/wan-2-1/fusionx/image-to-video": "598_seed"}


def test_interrupting_a_wait_cancels_what_has_not_started(client: Any, sim: Any) -> None:
    import _thread
    import threading

    sim.configure(paused=True)
    sw = client.sweep(KONTEXT, {"prompt": "i", "seed": [1, 2, 3, 4, 5, 6], "image_url": RED}, max_in_flight=2)

    def interrupt_when_queued() -> None:
        until(lambda: sw.counts()["in_queue"] == 2)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_when_queued, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        sw.wait(timeout=60)
    until(sw.done)
    assert [j.status for j in sw.jobs] == ["cancelled"] * 6
    assert sim.counters()["submits_received"] == 2 and sim.counters()["jobs"] == {"cancelled": 2}


def test_reuse_finds_a_numbered_seed_field(client: Any, sim: Any) -> None:
    sim.configure(time_scale=0.02)
    video = "community/wan-2-1/fusionx/image-to-video"
    inputs = {"600_prompt": "drift", "608_image": RED, "598_seed": 5, "602_widthx602_height": "480x480 (1:1)"}
    first = client.submit(video, inputs)
    first.wait(timeout=120)
    again = client.submit(video, inputs)
    assert again.reused and again.request_id == first.request_id and sim.counters()["submits_received"] == 1
    other = client.submit(video, {**inputs, "598_seed": 6})
    assert not other.reused
    other.wait(timeout=120)
