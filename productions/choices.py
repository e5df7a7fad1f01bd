"""Enumerations shared by every app (plain string enums; pure planners may import them).

In every app's choices a label is written only where it says more than the member's
name; otherwise Django's label is the name in words ("FAILED" reads "Failed").
"""

from django.db import models


class FragmentType(models.TextChoices):
    HOOK = "hook"
    BODY = "body"
    CTA = "cta", "Call to action"
    OUTRO = "outro"


class NarrativeStructure(models.TextChoices):
    HOOK_BODY_CTA = "hook_body_cta", "Hook → Body → CTA"
    HOOK_INVERTED = "hook_inverted", "Hook inverted (CTA → Body → Hook)"
    CTA_FORWARD = "cta_forward", "CTA forward (CTA → Hook → Body)"


class Objective(models.TextChoices):
    """What a team pays for: every judge of a master (ranking, budget steps, fatigue,
    the fragment analyzer) judges by this one objective (`promotion.evidence`)."""

    ROAS = "roas", "ROAS (revenue per spend)"
    CPA = "cpa", "CPA (cost per conversion)"
    CTR = "ctr", "CTR (clicks per impression)"


class EngineMode(models.TextChoices):
    STUB = "stub"
    LIVE = "live"


class ApprovalAction(models.TextChoices):
    MASTER_CREATED = "master_created", "Master created"
    MASTER_CHANGED = "master_changed", "Master changed"
    AUTHORIZATION_CHANGED = "authorization_changed", "Pixels/subgenres/genre changed"
    FRAGMENT_CREATED = "fragment_created", "Fragment created"
    FRAGMENT_CHANGED = "fragment_changed", "Fragment changed"
    FRAGMENT_APPROVED = "fragment_approved", "Fragment approved"
    FRAGMENT_REJECTED = "fragment_rejected", "Fragment rejected"
