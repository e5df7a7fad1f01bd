"""Variant planning: pure functions from human inputs and measurements to plans.

No ORM, no I/O, no clock: the same inputs and seed give the same plans. See
`planner.plan_batch` for how a batch is planned and `refresh.plan_refresh` for
refreshes; `pool` holds what the approved fragments can make, `assembly` the pieces
both share (layout, dressing, the assembled plan).
"""

from variants.planning.assembly import PlannedPieces, planned_pieces
from variants.planning.diversity import batch_diversity, plan_distance, plan_signature
from variants.planning.inputs import (
    MAX_VARIANTS,
    MIN_VARIANTS,
    BatchPlan,
    FragmentInput,
    MasterInput,
    PerformanceHints,
    PlanningError,
    SlotPlan,
    VariantPlan,
)
from variants.planning.planner import plan_batch
from variants.planning.refresh import (
    FatiguedVariant,
    FatiguedVariantInput,
    plan_refresh,
    slots_from_fragments_order,
)

__all__ = [
    "MAX_VARIANTS",
    "MIN_VARIANTS",
    "BatchPlan",
    "FatiguedVariant",
    "FatiguedVariantInput",
    "FragmentInput",
    "MasterInput",
    "PerformanceHints",
    "PlannedPieces",
    "PlanningError",
    "SlotPlan",
    "VariantPlan",
    "batch_diversity",
    "plan_batch",
    "plan_distance",
    "plan_refresh",
    "plan_signature",
    "planned_pieces",
    "slots_from_fragments_order",
]
