"""Registers the console's pages (see creative_engine/console)."""

from creative_engine.console import (  # noqa: F401
    accounts,
    changelists,
    evidence,
    leaderboards,
    masters,
    runs,
    schedule,
    variants,
)
