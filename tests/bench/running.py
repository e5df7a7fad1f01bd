"""Run a bench script as a person would: its own process, its own temp folder, and
none of the suite's database, broker or settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_run(script: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`bench/<script>` with `args`, in a clean environment (TMPDIR = `tmp_path`)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["TMPDIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
