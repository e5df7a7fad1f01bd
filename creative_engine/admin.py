"""Registers the console's pages (see creative_engine/console)."""

from creative_engine.console import accounts, runs, schedule  # noqa: F401
