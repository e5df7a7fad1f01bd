"""bench/decisions.py judges the engine's picks on a real cycle: its regret figures must
stay regrets (a pick is never better than the oracle's top 3 of the same pool), the
oracle held to the gates must be the floor of every pick held to them, and the gated
and ungated comparisons must be printed beside the plain one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.running import bench_run

ARGS = ["--cycles", "20", "--masters", "1", "--seeds", "1", "--policies", "ours"]


def _bench(tmp_path: Path, *extra: str) -> str:
    done = bench_run("decisions.py", *ARGS, *extra, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_every_regret_is_a_share_of_the_oracles_rate(tmp_path: Path) -> None:
    result = json.loads(
        _bench(tmp_path, "--one", "--modes", "even").strip().splitlines()[-1]
    )
    assert result["judgements"] > 0
    for suffix in ("", "_objective"):
        for key in (
            "regret_ours",
            "regret_greedy",
            "regret_random",
            "regret_greedy_gated",
            "regret_posterior_ungated",
            "regret_posterior_gated",
            "regret_oracle_gated",
        ):
            value = result[key + suffix]
            assert -1e-9 <= value <= 1.0, (key + suffix, value)
        assert 0.0 <= result["oracle_past_gates" + suffix] <= 1.0
        # No picker that respects the gates beats the truly best past them
        floor = result["regret_oracle_gated" + suffix]
        assert floor <= result["regret_greedy_gated" + suffix] + 1e-9
        assert floor <= result["regret_posterior_gated" + suffix] + 1e-9
        assert floor <= result["regret_ours" + suffix] + 1e-9
    assert 0.0 <= result["greedy_below_gates"] <= 1.0


@pytest.mark.slow
def test_the_report_prints_the_gated_and_ungated_regrets(tmp_path: Path) -> None:
    report = _bench(tmp_path, "--modes", "even", "--jobs", "1")
    assert "== delivery: even" in report
    assert "oracle's top 3 past the engine's gates:" in report
    assert "regret greedy-by-CTR pick among variants past the gates:" in report
    assert "regret the posterior's top 3, no gates:" in report
    assert "regret oracle held to the gates (any gated picker's floor):" in report
    assert "regret the posterior's top 3 past the gates, no hold on winners:" in report
    assert "greedy pick's variants below them:" in report
    assert "-- regret in conversions per impression" in report
    assert "-- regret in the master's objective" in report
    assert "regret ratio to the greedy pick (means over seeds): ours " in report
    assert "paired regret ours − greedy pick past the gates:" in report
