"""The beat scheduler: django-celery-beat's database scheduler, plus the window claim.

The production cycle's window is claimed where the beat fires, not where a worker gets
to the message: the run row exists (queued) the moment the beat sends, so a manual
request at the same instant finds it and is refused, and the worker's task only runs
the run it was handed (`run_id`). A second beat in the same window claims nothing and
sends nothing. The message's id is the run's dispatch token, so the periodic check
(`creative_engine.tasks.recover_scheduled_runs`) can see whether it still waits on the
broker and send it again if it was lost.
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
    return {"run_id": str(run.pk), "token": run.dispatch_token}


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
            if advance:  # the next entry is rebuilt from its row: carry the claim
                entry, advance = self.reserve(entry), False
            saved, saved_options = entry.kwargs, entry.options
            # The entry's own kwargs stay as stored; only this send carries the run,
            # under the run's token as its id.
            entry.kwargs = {**(saved or {}), **claim}
            entry.options = {**(saved_options or {}), "task_id": claim["token"]}
            try:
                return super().apply_async(
                    entry, producer=producer, advance=advance, **kwargs
                )
            finally:
                entry.kwargs, entry.options = saved, saved_options
        return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
