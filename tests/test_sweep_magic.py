"""`%runcomfy sweep` parsing and running (through a real IPython shell), and reuse / budget through `%runcomfy`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output
from PIL import Image
from shell_helpers import run_cell

import runcomfy_nb as rc
from runcomfy_nb import config, costs
from runcomfy_nb.sweep_magic import parse_sweep, sweep_magic

KONTEXT = "blackforestlabs/flux-1-kontext/pro/edit"
RED = Image.new("RGB", (64, 48), (200, 30, 30))


def test_lists_and_ranges_are_axes() -> None:
    model, inputs, options = parse_sweep(
        f'{KONTEXT} prompt=["make it winter", "make it night"] seed=1..4 aspect_ratio=1:1 --max-in-flight 2 --fresh',
        None, {})
    assert model == KONTEXT
    assert inputs == {"prompt": ["make it winter", "make it night"], "seed": [1, 2, 3, 4], "aspect_ratio": "1:1"}
    assert options["max_in_flight"] == 2 and options["fresh"] is True and options["wait"] is False


def test_quoted_values_and_objects_are_single_values() -> None:
    seeds = rc.seed_control("increment", 3)
    _, inputs, _ = parse_sweep(f'{KONTEXT} prompt="[not a list]" seed=@seeds image_url=@img', None,
                               {"seeds": seeds, "img": RED})
    assert inputs == {"prompt": "[not a list]", "seed": seeds, "image_url": RED}
    _, inputs, _ = parse_sweep(f"{KONTEXT} prompt=1..3 seed=9..7", None, {})
    assert inputs == {"prompt": "1..3", "seed": [9, 8, 7]}  # a range only for numeric fields


def test_the_cell_form() -> None:
    _, inputs, options = parse_sweep(f"{KONTEXT} -o grid", 'prompt: ["a fox", "a wolf"]\nseed: 1..2\naspect_ratio: 1:1\n', {})
    assert inputs == {"prompt": ["a fox", "a wolf"], "seed": [1, 2], "aspect_ratio": "1:1"}
    assert options["out"] == "grid"


@pytest.mark.parametrize(("line", "message"), [
    (f"{KONTEXT} prompt=[1", "not valid JSON"),
    (f"{KONTEXT} prompt=[]", "at least one value"),
    (f"{KONTEXT} seed=1..100000", "at most"),
    (f"{KONTEXT} --bogus", "Unknown option --bogus"),
    (f"{KONTEXT} --max-in-flight many", "needs a number"),
    ("prompt=x", "Name one model"),
])
def test_mistakes_are_named(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_sweep(line, None, {})


@pytest.fixture
def ip(shell: Any, sim: Any) -> Iterator[Any]:
    config.set_simulator(sim.base_url)
    saved = config.settings.budget_usd
    yield shell
    config.settings.budget_usd = saved
    config.clear_simulator()


run = run_cell


def test_sweep_magic_runs_and_shows_the_grid_once(ip: Any, sim: Any) -> None:
    ip.user_ns["img"] = RED
    with capture_output() as captured:
        sw = sweep_magic(f'{KONTEXT} prompt=["snow", "rain"] seed=1..2 image_url=@img -o grid --wait --timeout 60',
                         None, ip)
    assert ip.user_ns["grid"] is sw and sw.done() and [j.status for j in sw.jobs] == ["completed"] * 4
    widgets = [o.data["application/vnd.jupyter.widget-view+json"]["model_id"] for o in captured.outputs
               if "application/vnd.jupyter.widget-view+json" in o.data]
    assert widgets == [sw.view.model_id, sw.view.panel.model_id]  # the grid once, then the area for its forms
    assert sim.counters()["submits_accepted"] == 4


def test_reuse_and_budget_through_the_magic(ip: Any, sim: Any) -> None:
    ip.user_ns["img"] = RED
    first, _ = run(ip, f'%runcomfy {KONTEXT} prompt="magic" seed=11 image_url=@img --wait --timeout 60')
    again, _ = run(ip, f'%runcomfy {KONTEXT} prompt="magic" seed=11 image_url=@img')
    assert again.reused and again.request_id == first.request_id and sim.counters()["submits_received"] == 1
    config.settings.budget_usd = costs.kernel_spend() + 0.001  # less than one more job
    with pytest.raises(costs.BudgetExceededError, match="budget_usd: this job would cost about"):
        run(ip, f'%runcomfy {KONTEXT} prompt="magic" seed=12 image_url=@img')
    assert sim.counters()["submits_received"] == 1
    still, _ = run(ip, f'%runcomfy {KONTEXT} prompt="magic" seed=11 image_url=@img')  # reuse costs nothing
    assert still.reused


def test_runcomfy_sweep_line_and_cell_route_to_the_sweep_and_show_it_once(ip: Any, sim: Any) -> None:
    ip.user_ns["img"] = RED
    sw, captured = run(ip, f'%runcomfy sweep {KONTEXT} prompt=["fog", "dusk"] seed=3 image_url=@img --wait --timeout 60')
    assert type(sw).__name__ == "Sweep" and [j.status for j in sw.jobs] == ["completed"] * 2
    grids = [o for o in captured.outputs if "application/vnd.jupyter.widget-view+json" in o.data
             and o.data["application/vnd.jupyter.widget-view+json"]["model_id"] == sw.view.model_id]
    assert len(grids) == 1  # shown by the magic; the cell's result (the same Sweep) is not shown again
    body = 'prompt: ["hail", "sleet"]\nseed: 5..6\nimage_url: https://example.com/photo.png\n'
    cell, _ = run(ip, f"%%runcomfy sweep {KONTEXT} -o grid2 --max-in-flight 1\n{body}")
    assert ip.user_ns["grid2"] is cell and cell.max_in_flight == 1 and len(cell.jobs) == 4
    cell.wait(60)
    assert cell.done() and [c.inputs["seed"] for c in cell.cells] == [5, 6, 5, 6]
    assert [c.inputs["prompt"] for c in cell.cells] == ["hail", "hail", "sleet", "sleet"]
    assert cell.max_seen_in_flight == 1
