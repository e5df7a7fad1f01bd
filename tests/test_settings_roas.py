"""The ROAS engine's bounds come from the environment and nonsense stops start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.ROAS_TARGET, settings.ROAS_MIN_DAILY_BUDGET_MINOR, "
            "settings.ROAS_MAX_DAILY_BUDGET_MINOR)",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_bounds_are_read_from_the_environment():
    started = _start(
        ROAS_TARGET="3.5",
        ROAS_MIN_DAILY_BUDGET_MINOR="1000",
        ROAS_MAX_DAILY_BUDGET_MINOR="20000",
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["3.5", "1000", "20000"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ROAS_TARGET": "0"}, "ROAS_TARGET must be positive"),
        (
            {
                "ROAS_MIN_DAILY_BUDGET_MINOR": "5000",
                "ROAS_MAX_DAILY_BUDGET_MINOR": "4000",
            },
            "at most ROAS_MAX_DAILY_BUDGET_MINOR",
        ),
        ({"ROAS_MIN_DAILY_BUDGET_MINOR": "0"}, "must be positive"),
    ],
)
def test_nonsense_bounds_stop_start_up_with_a_clear_message(env, message):
    started = _start(**env)
    assert started.returncode != 0
    assert message in started.stderr
