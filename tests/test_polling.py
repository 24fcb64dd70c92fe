"""The polling policy (runcomfy_nb/_polling.py) in virtual time: no clock, no network, seeded workloads.

The issue's targets as assertions (runcomfy_nb/polling_eval.py replays each workload against the policy and
against a plain 1 s loop): median and p90 lag of both transitions no worse, status requests no more, and at most
half the requests on fixed 10 s jobs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from runcomfy_nb import polling_eval as ev
from runcomfy_nb._polling import (
    TICK,
    Distribution,
    PollingPolicy,
    RunTimeHistory,
    Sample,
    input_class,
    turnbull,
)

MODEL = "wan-ai/wan-2-5/text-to-image"


@pytest.fixture(scope="module")
def results() -> Callable[[str], dict[str, dict[str, float]]]:
    """results(scenario) -> the policy's and the 1 s loop's summaries, each scenario evaluated once per process
    when first asked for (pytest-xdist workers evaluate only the scenarios of the tests they run)."""
    scenarios = {s.name: s for s in ev.scenarios()}

    @functools.cache
    def evaluate(name: str) -> dict[str, dict[str, float]]:
        return {"policy": ev.run_policy(scenarios[name]).summary(), "naive": ev.run_fixed(scenarios[name], 1.0).summary()}

    return evaluate


STRICT = ["fixed 3 s", "fixed 10 s", "fixed 30 s", "by input class 5 s / 30 s", "busy queue 15x1 worker"]


@pytest.mark.parametrize("name", STRICT)
def test_never_worse_than_the_naive_loop(results, name) -> None:
    policy, naive = results(name)["policy"], results(name)["naive"]
    for metric in ("start_p50", "start_p90", "end_p50", "end_p90"):
        assert policy[metric] <= naive[metric], (name, metric, policy, naive)
    assert policy["requests"] <= naive["requests"], (name, policy, naive)


def test_fixed_10_s_jobs_cost_at_most_half_the_naive_requests(results) -> None:
    policy, naive = results("fixed 10 s")["policy"], results("fixed 10 s")["naive"]
    assert policy["requests"] <= naive["requests"] / 2, (policy, naive)


def test_unexplained_variation_falls_back_to_the_naive_loop(results) -> None:
    """Uniform 2-40 s on identical inputs: no schedule beats a fixed loop there for the same requests (the end
    is equally likely anywhere), so the policy becomes that loop: same cadence, no more requests, lags equal
    up to sampling noise (3 %), and the start still seen at once."""
    policy, naive = results("uniform 2-40 s")["policy"], results("uniform 2-40 s")["naive"]
    assert policy["requests"] <= naive["requests"]
    assert policy["start_p50"] <= naive["start_p50"] and policy["start_p90"] <= naive["start_p90"]
    for metric in ("end_p50", "end_p90"):
        assert policy[metric] <= naive[metric] * 1.03, (metric, policy, naive)


def test_input_class_keeps_only_what_changes_run_time() -> None:
    klass = input_class({"prompt": "a fox", "seed": 3, "aspect_ratio": "16:9", "num_frames": 81, "Steps": 30,
                         "image_url": "https://x/y.png", "width": 1024, "height": 768})
    assert klass == "aspect_ratio=16:9;height=768;num_frames=81;steps=30;width=1024"
    assert input_class({"prompt": "x"}) == "" and input_class(None) == ""


def test_run_time_is_learned_from_the_servers_side() -> None:
    """The start lies between the last poll that saw the job queued and the first that saw it running; the
    queue-detection lag is not subtracted from the run."""
    policy = PollingPolicy()
    job = policy.track(MODEL, {"aspect_ratio": "1:1"}, submitted_at=0.0)
    assert policy.observe(job, "in_queue", 0, at=1.0) is None
    policy.observe(job, "in_progress", None, at=4.0)   # started somewhere in (1, 4]
    policy.observe(job, "in_progress", None, at=9.0)
    learned = policy.observe(job, "completed", None, at=10.0)  # ended in (9, 10]
    assert learned == Sample(5.0, 9.0)
    assert policy.history.run_samples(MODEL, "aspect_ratio=1:1") == ([Sample(5.0, 9.0)], False)
    assert policy.history.run_samples(MODEL, "aspect_ratio=16:9") == ([Sample(5.0, 9.0)], False)  # model fallback


def test_history_round_trips_as_plain_json_and_ignores_garbage() -> None:
    history = RunTimeHistory()
    history.add_run(MODEL, "steps=30", Sample(2.0, 2.5))
    history.add_queue_gap(Sample(3.0, 3.2))
    text = history.to_json()
    assert json.loads(text)["version"] == 1
    again = RunTimeHistory.from_json(text)
    assert again.run_samples(MODEL, "steps=30") == ([Sample(2.0, 2.5)], False)
    assert list(again.queue_gaps) == [Sample(3.0, 3.2)]
    for bad in (None, "", "{", '{"runs": {"m": [[5, 1]]}}', '{"runs": 3}', '[1]'):
        assert RunTimeHistory.from_json(bad).runs == {}


def test_turnbull_piles_fixed_runs_where_coarse_brackets_overlap() -> None:
    cells = turnbull((Sample(2.0, 3.1), Sample(2.9, 4.0), Sample(0.0, 3.0), Sample(2.95, 3.5)))
    heavy = max(cells, key=lambda cell: cell[1])[0]
    assert heavy.low >= 2.9 and heavy.high <= 3.1
    dist = Distribution([Sample(2.0, 3.1), Sample(2.9, 4.0), Sample(0.0, 3.0)])
    assert 2.8 <= dist.quantile(0.5) <= 3.1


def test_a_wrong_prediction_costs_no_more_than_the_naive_cadence() -> None:
    """Learned 10 s runs, then one that runs much longer: once past the predicted window the policy never
    sleeps longer than TICK between requests."""
    policy = PollingPolicy()
    for _ in range(5):
        policy.history.add_run(MODEL, "", Sample(9.95, 10.05))
    job = policy.track(MODEL, {}, submitted_at=0.0)
    now = 0.0
    delays = []
    while now < 40:
        delay = policy.next_delay(job, now)
        now += delay
        delays.append((now, delay))
        policy.observe(job, "in_progress", None, at=now)
    assert delays[0][1] <= 0.2  # the early poll that times the start
    assert delays[1][0] >= 9.0  # then one sleep to just before the predicted end
    assert all(delay <= TICK + 1e-9 for at, delay in delays[2:]), delays


def test_next_in_line_is_predicted_from_the_queue_advances() -> None:
    """Queue advances seen one position at a time teach the interval between starts; a job then next in line
    polls around the predicted start rather than every second."""
    policy = PollingPolicy()
    job = policy.track(MODEL, {}, submitted_at=0.0)
    for at, position in [(0.1, 3), (2.9, 3), (3.1, 2), (5.9, 2), (6.1, 1), (8.9, 1), (9.1, 0)]:
        policy.observe(job, "in_queue", position, at=at)
    assert policy.history.queue_gaps, "advance intervals learned"
    assert all(2.0 <= g.low <= 3.0 <= g.high <= 3.5 for g in policy.history.queue_gaps)
    next_at = job.next_poll_at(9.1)
    assert next_at > 9.1 + TICK  # skips the naive loop's next tick: the next start is ~3 s away


def test_learned_history_survives_in_the_journal(tmp_path) -> None:
    from runcomfy_nb._journal import Journal

    policy = PollingPolicy()
    policy.history.add_run(MODEL, "steps=4", Sample(2.9, 3.1))
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.put_state("polling:http://127.0.0.1:1", policy.history.to_json())
    journal.put_state("polling:http://127.0.0.1:1", policy.history.to_json())  # an update, not a second row
    journal.close()
    again = Journal(tmp_path / "journal.sqlite3")
    restored = PollingPolicy(RunTimeHistory.from_json(again.get_state("polling:http://127.0.0.1:1")))
    assert restored.typical_run(MODEL, {"steps": 4}) == 3.0
    assert again.get_state("polling:elsewhere") is None
    again.close()
