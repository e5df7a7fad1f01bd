from django.db import models


class PromotionType(models.TextChoices):
    TEST = "test", "Test"
    SCALE = "scale", "Scale"
    WINNER = "winner", "Winner"
    UPLOAD = "upload", "Upload"
    PAUSE = "pause", "Pause"
    ARCHIVE = "archive", "Archive"
    BUDGET = "budget", "Budget change"
    INSIGHTS = "insights", "Insights read"


class PromotionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    # Written before a request to Meta leaves; still here after a crash: outcome unknown.
    ATTEMPTING = "attempting", "Attempting (outcome unknown until answered)"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class PromotedBy(models.TextChoices):
    SCHEDULER = "scheduler", "Scheduler"
    MANUAL = "manual", "Manual"
    API = "api", "API"


class StubObjectKind(models.TextChoices):
    VIDEO = "video", "Video"
    IMAGE = "image", "Image"
    CREATIVE = "creative", "Creative"
    AD = "ad", "Ad"
    ADSET = "adset", "Ad set"
