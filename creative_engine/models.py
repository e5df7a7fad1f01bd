"""Run history: one row per production cycle, with what it did and why."""

from django.db import models
from django.db.models import Q

from productions.models import (
    NewestFirstModel,
    engine_mode_field,
    newest_first_index,
    person_field,
)


class RunTrigger(models.TextChoices):
    SCHEDULER = "scheduler"
    MANUAL = "manual", "Manual (command)"
    API = "api", "API"


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial", "Succeeded with errors"
    FAILED = "failed"
    REFUSED = "refused", "Refused (another cycle was running)"


# A run in one of these holds the engine: no second manual run is stacked on it.
IN_FLIGHT_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class CycleRun(NewestFirstModel):
    """A production cycle. A scheduled window has at most one run (unique constraint)."""

    trigger = models.CharField(max_length=12, choices=RunTrigger.choices)
    scheduled_window = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Start of the 12-hour window a scheduled run serves.",
    )
    status = models.CharField(
        max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    as_of = models.DateTimeField(help_text="The clock the cycle ran by.")
    dry_run = models.BooleanField(default=False)
    options = models.JSONField(default=dict, blank=True)
    requested_by = person_field()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    dispatch_token = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text=(
            "The id of the one message sent for a scheduled run; a message carrying "
            "another token was superseded and does nothing."
        ),
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(
        default=list,
        blank=True,
        help_text="Steps that failed; only these decide the run's status.",
    )
    refusals = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Work refused for one master or variant (no approved fragments, a render "
            "that failed); the other masters' work went on."
        ),
    )
    decisions = models.JSONField(default=list, blank=True)
    alerts = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "What a person must fix: a token, ad account or Page the live preflight "
            "refused (the cycle stopped before rendering), a master held because "
            "its ad set was refused, or a master whose testing pool cannot be "
            "refilled, with the reason."
        ),
    )
    recoveries = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Each time the run was sent again because its message was lost or its "
            "worker died, with the reason."
        ),
    )
    mode = engine_mode_field()

    class Meta(NewestFirstModel.Meta):
        db_table = "meta_creative_cycle_runs"
        indexes = [
            newest_first_index("status", name="run_status_created_idx"),
            models.Index(fields=["-started_at"], name="run_started_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["scheduled_window"],
                condition=Q(scheduled_window__isnull=False),
                name="run_one_per_scheduled_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} run {self.as_of:%Y-%m-%d %H:%M} ({self.status})"
