"""Variant planning: pure functions from human inputs and measurements to plans.

No ORM, no I/O, no clock: the same inputs and seed give the same plans. See
`planner.plan_batch` for how a batch is planned and `refresh.plan_refresh` for
refreshes; `pool` holds what the approved fragments can make, `assembly` the pieces
both share (layout, dressing, the assembled plan).

The names below are the package's public ones (each imported `as` itself, the
explicit re-export of PEP 484).
"""

from variants.planning.assembly import PlannedPieces as PlannedPieces
from variants.planning.assembly import planned_pieces as planned_pieces
from variants.planning.diversity import batch_diversity as batch_diversity
from variants.planning.diversity import plan_distance as plan_distance
from variants.planning.diversity import plan_signature as plan_signature
from variants.planning.inputs import MAX_VARIANTS as MAX_VARIANTS
from variants.planning.inputs import MIN_VARIANTS as MIN_VARIANTS
from variants.planning.inputs import BatchPlan as BatchPlan
from variants.planning.inputs import FatiguedVariant as FatiguedVariant
from variants.planning.inputs import FatiguedVariantInput as FatiguedVariantInput
from variants.planning.inputs import FragmentInput as FragmentInput
from variants.planning.inputs import MasterInput as MasterInput
from variants.planning.inputs import PerformanceHints as PerformanceHints
from variants.planning.inputs import PlanningError as PlanningError
from variants.planning.inputs import SlotPlan as SlotPlan
from variants.planning.inputs import VariantPlan as VariantPlan
from variants.planning.inputs import (
    slots_from_fragments_order as slots_from_fragments_order,
)
from variants.planning.planner import plan_batch as plan_batch
from variants.planning.refresh import plan_refresh as plan_refresh
