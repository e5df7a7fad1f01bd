"""The beat scheduler: django-celery-beat's database scheduler, plus the window claim.

The production cycle's window is claimed where the beat fires, not where a worker gets
to the message: the run row exists (queued) the moment the beat sends, so a manual
request at the same instant finds it and is refused, and the worker's task only runs
the run it was handed (`run_id`). A second beat in the same window claims nothing and
sends nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from creative_engine.schedule import SCHEDULED_CYCLE_TASK
from creative_engine.services.cycle import cycle_schedule_window

logger = logging.getLogger(__name__)


def scheduled_cycle_kwargs() -> dict[str, Any] | None:
    """The task kwargs for this window's run, claiming it; None if already claimed."""
    run = cycle_schedule_window()
    if run is None:
        return None
    return {"run_id": str(run.pk)}


class CycleScheduler(DatabaseScheduler):  # type: ignore[misc]
    """DatabaseScheduler that claims the cycle's window before it sends the task."""

    def apply_async(
        self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any
    ) -> Any:
        if entry.task == SCHEDULED_CYCLE_TASK:
            claim = scheduled_cycle_kwargs()
            if claim is None:
                logger.info("beat: this window's cycle is already claimed")
                return None
            saved = entry.kwargs
            # The entry's own kwargs stay as stored; only this send carries the run.
            entry.kwargs = {**(saved or {}), **claim}
            try:
                return super().apply_async(
                    entry, producer=producer, advance=advance, **kwargs
                )
            finally:
                entry.kwargs = saved
        return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
