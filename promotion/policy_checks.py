"""Checks for the numeric fields of a policy dataclass, run in its `__post_init__`.

Each names the field once and refuses a bad value with the same sentence in every
policy (fatigue, ranking, budget, capacity), so a misconfigured setting reads alike
wherever it fails.
"""

from __future__ import annotations


def require_at_least(policy: object, field: str, minimum: float) -> None:
    if getattr(policy, field) < minimum:
        raise ValueError(f"{field} must be at least {minimum}.")


def require_positive(policy: object, field: str) -> None:
    if getattr(policy, field) <= 0:
        raise ValueError(f"{field} must be positive.")


def require_not_negative(policy: object, field: str) -> None:
    if getattr(policy, field) < 0:
        raise ValueError(f"{field} must not be negative.")


def require_fraction(policy: object, field: str) -> None:
    """Strictly between 0 and 1 (a share, a probability)."""
    if not 0 < getattr(policy, field) < 1:
        raise ValueError(f"{field} must be between 0 and 1.")
