"""Promotion enumerations (labels as in `productions.choices`)."""

from django.db import models


class PromotionType(models.TextChoices):
    TEST = "test"
    SCALE = "scale"
    WINNER = "winner"
    UPLOAD = "upload"
    PAUSE = "pause"
    ARCHIVE = "archive"
    BUDGET = "budget", "Budget change"
    INSIGHTS = "insights", "Insights read"


class PromotionStatus(models.TextChoices):
    PENDING = "pending"
    IN_PROGRESS = "in_progress", "In progress"
    # Written before a request to Meta leaves; still here after a crash: outcome unknown.
    ATTEMPTING = "attempting", "Attempting (outcome unknown until answered)"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class PromotedBy(models.TextChoices):
    SCHEDULER = "scheduler"
    MANUAL = "manual"
    API = "api", "API"


class StubObjectKind(models.TextChoices):
    VIDEO = "video"
    IMAGE = "image"
    CREATIVE = "creative"
    AD = "ad"
    ADSET = "adset", "Ad set"
