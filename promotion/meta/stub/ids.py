"""Meta-shaped ids and seeded draws for the stub account.

Both are hashes of `(seed, parts...)` (the market's `seeded_hash`), so the same seed
and object name give the same id and the same failure draw in every process.
"""

from __future__ import annotations

from promotion.choices import StubObjectKind
from promotion.meta.market import seeded_hash

# Meta-shaped ids: videos have 16 digits, creatives and ads 18 starting 1202.
ID_PREFIX: dict[str, str] = {
    StubObjectKind.VIDEO: "10",
    StubObjectKind.CREATIVE: "1202",
    StubObjectKind.AD: "1202",
}


def numeric_id(seed: int, prefix: str, *parts: object) -> str:
    """A numeric id string starting `prefix`, as long as Meta's ids of that kind."""
    digits = 18 - len(prefix) if prefix == "1202" else 16 - len(prefix)
    return f"{prefix}{seeded_hash(seed, *parts) % 10**digits:0{digits}d}"


def seeded_unit(seed: int, *parts: object) -> float:
    """A draw in [0, 1), the same for the same seed and parts."""
    return seeded_hash(seed, *parts) / 2**64
