"""The policy field checks: one sentence per kind of bad value, the field named."""

from dataclasses import dataclass

import pytest

from promotion.policy_checks import (
    require_at_least,
    require_fraction,
    require_not_negative,
    require_positive,
)


@dataclass(frozen=True)
class _Policy:
    days: int = 2
    share: float = 0.5
    strength: float = 1.0
    lag: int = 0


def test_valid_fields_pass_every_check():
    policy = _Policy()

    require_at_least(policy, "days", 2)
    require_fraction(policy, "share")
    require_positive(policy, "strength")
    require_not_negative(policy, "lag")


def test_a_value_below_the_minimum_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^days must be at least 2\.$"):
        require_at_least(_Policy(days=1), "days", 2)


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1, 1.5])
def test_a_fraction_must_lie_strictly_between_0_and_1(share):
    with pytest.raises(ValueError, match=r"^share must be between 0 and 1\.$"):
        require_fraction(_Policy(share=share), "share")


def test_zero_is_not_positive_but_is_not_negative():
    with pytest.raises(ValueError, match=r"^strength must be positive\.$"):
        require_positive(_Policy(strength=0.0), "strength")
    require_not_negative(_Policy(lag=0), "lag")
    with pytest.raises(ValueError, match=r"^lag must not be negative\.$"):
        require_not_negative(_Policy(lag=-1), "lag")
