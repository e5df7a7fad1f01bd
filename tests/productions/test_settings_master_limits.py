"""The master input limits come from the environment; nonsense stops start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
NAMES = (
    "MASTER_MAX_BYTES",
    "MASTER_MAX_SECONDS",
    "MASTER_MAX_DIMENSION",
    "MASTER_MAX_STREAMS",
    "MASTER_FILE_NAME_MAX_CHARS",
    "STYLE_GUIDE_MAX_LIST_ITEMS",
    "STYLE_GUIDE_MAX_TEXT_CHARS",
)


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in (*NAMES, "FETCH_MAX_BYTES")
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            f"print(*(getattr(settings, n) for n in {NAMES!r}))",
        ],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_defaults_are_a_gibibyte_a_day_4096_pixels_and_8_streams():
    started = _start()

    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == [
        str(1024**3),
        "86400.0",
        "4096",
        "8",
        "100",
        "100",
        "1000",
    ]


def test_the_former_fetch_cap_still_sets_the_one_size_cap():
    started = _start(FETCH_MAX_BYTES="5000")

    assert started.returncode == 0, started.stderr
    assert started.stdout.split()[0] == "5000"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "MASTER_MAX_SECONDS",
            "90000",
            "MASTER_MAX_SECONDS must be between 1 and 86400",
        ),
        ("MASTER_MAX_BYTES", "0", "MASTER_MAX_BYTES must be between"),
        ("MASTER_MAX_DIMENSION", "8", "MASTER_MAX_DIMENSION must be between 16"),
        ("MASTER_MAX_STREAMS", "0", "MASTER_MAX_STREAMS must be between 1"),
        ("MASTER_FILE_NAME_MAX_CHARS", "255", "MASTER_FILE_NAME_MAX_CHARS must be"),
        ("STYLE_GUIDE_MAX_LIST_ITEMS", "-1", "STYLE_GUIDE_MAX_LIST_ITEMS must be"),
        ("STYLE_GUIDE_MAX_TEXT_CHARS", "0", "STYLE_GUIDE_MAX_TEXT_CHARS must be"),
    ],
)
def test_a_limit_out_of_its_bounds_stops_start_up(name, value, message):
    started = _start(**{name: value})

    assert started.returncode != 0
    assert message in started.stderr
