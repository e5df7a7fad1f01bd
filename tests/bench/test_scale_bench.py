"""bench/scale.py measures a real cycle: its stand-in render must still fit the render
service, or every variant fails and the bench times nothing (as it once did)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.running import bench_run


@pytest.mark.slow
def test_scale_bench_runs_a_cycle_that_uploads_every_variant(tmp_path: Path) -> None:
    done = bench_run("scale.py", "--masters", "2", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    # Two masters, nine variants each, all uploaded and testing: none failed.
    assert "# 2 masters: run succeeded" in done.stdout
    assert "variants {'testing': 18}" in done.stdout
    assert "planned, persisted and ranked in" in done.stdout
