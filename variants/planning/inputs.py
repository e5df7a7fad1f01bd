"""What the planner takes and returns: frozen plain data, no ORM and no I/O.

Scores (`performance_score`, `success_rate`, `performance_by_structure` values and every
`PerformanceHints` mapping) are on [0, 1], where 0.5 means "average"; values outside are
clamped. Times are seconds in the master's timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from variants.planning.timing import FPS

# A batch has 5-15 variants (SPEC.md).
MIN_VARIANTS = 5
MAX_VARIANTS = 15


class PlanningError(ValueError):
    """The inputs cannot yield a valid plan; the message names what is missing."""


@dataclass(frozen=True)
class FragmentInput:
    """An approved cut of the master. The caller passes approved fragments only."""

    id: str
    fragment_type: str
    start_time: float
    end_time: float
    performance_score: float | None = None
    usage_count: int = 0
    success_rate: float | None = None
    performance_by_structure: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MasterInput:
    id: str
    title: str
    duration: float
    genre: str = ""
    style_guide: Mapping[str, Any] = field(default_factory=dict)
    human_instructions: str = ""
    authorized_subgenres: Sequence[str] = ()
    authorized_pixels: Sequence[str] = ()


@dataclass(frozen=True)
class PerformanceHints:
    """Measured performance of earlier choices, each a score on [0, 1] (0.5 = average).

    `evidence` is how many measured variants stand behind the hints; it feeds the
    confidence of a plan, not its score.
    """

    structure_scores: Mapping[str, float] = field(default_factory=dict)
    duration_scores: Mapping[str, float] = field(default_factory=dict)
    caption_template_scores: Mapping[str, float] = field(default_factory=dict)
    word_scores: Mapping[str, float] = field(default_factory=dict)
    look_scores: Mapping[str, float] = field(default_factory=dict)
    pixel_scores: Mapping[str, float] = field(default_factory=dict)
    hashtag_scores: Mapping[str, float] = field(default_factory=dict)
    evidence: int = 0


@dataclass(frozen=True)
class SlotPlan:
    """One cut in the variant; `source_in`/`source_out` are in the master's timeline."""

    fragment_id: str
    fragment_type: str
    source_in: float
    source_out: float

    @property
    def frames(self) -> int:
        return round((self.source_out - self.source_in) * FPS)

    @property
    def duration(self) -> float:
        return round(self.frames / FPS, 6)

    def as_dict(self) -> dict[str, Any]:
        """The shape stored in `CreativeVariant.fragments_order`."""
        return {
            "fragment_id": self.fragment_id,
            "fragment_type": self.fragment_type,
            "source_in": self.source_in,
            "source_out": self.source_out,
        }


@dataclass(frozen=True)
class VariantPlan:
    variant_number: int
    variant_type: str
    narrative_structure: str
    slots: tuple[SlotPlan, ...]
    duration_seconds: float
    duration_category: str
    caption: str
    hashtags: tuple[str, ...]
    text_overlay: str
    color_look: str
    pixel_id: str | None
    estimated_score: float
    confidence: float
    signature: str
    rationale: Mapping[str, Any]

    @property
    def opening_fragment_id(self) -> str:
        """What a viewer sees first (the hook, or the CTA in CTA-first structures)."""
        return self.slots[0].fragment_id

    @property
    def hook_fragment_id(self) -> str:
        return next(s.fragment_id for s in self.slots if s.fragment_type == "hook")

    @property
    def fragment_ids(self) -> tuple[str, ...]:
        return tuple(s.fragment_id for s in self.slots)

    def fragments_order(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.slots]


@dataclass(frozen=True)
class BatchPlan:
    """The plans of one batch and its diversity (see `diversity.batch_diversity`)."""

    plans: tuple[VariantPlan, ...]
    diversity: float
    seed: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FatiguedVariantInput:
    """A stored variant as the refresh planner sees it."""

    narrative_structure: str
    slots: tuple[SlotPlan, ...]
    duration_seconds: float
    caption: str = ""
    hashtags: tuple[str, ...] = ()
    color_look: str = ""


# What a refresh reads of the fatigued variant (structure, slots, length, caption,
# hashtags, look): a stored variant, or a plan of an earlier batch.
FatiguedVariant = FatiguedVariantInput | VariantPlan


def slots_from_fragments_order(
    fragments_order: Sequence[Mapping[str, Any]],
) -> tuple[SlotPlan, ...]:
    """`CreativeVariant.fragments_order` (list of dicts) → slots."""
    return tuple(
        SlotPlan(
            fragment_id=str(item["fragment_id"]),
            fragment_type=str(item["fragment_type"]),
            source_in=float(item.get("source_in", 0.0)),
            source_out=float(item.get("source_out", 0.0)),
        )
        for item in fragments_order
    )
