"""bench/scale.py measures a real cycle: its stand-in render must still fit the render
service, or every variant fails and the bench times nothing (as it once did)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_scale_bench_runs_a_cycle_that_uploads_every_variant(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--masters", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Two masters, nine variants each, all uploaded and testing: none failed.
    assert "# 2 masters: run succeeded" in done.stdout
    assert "variants {'testing': 18}" in done.stdout
    assert "planned, persisted and ranked in" in done.stdout
