"""A batch of variants generated now, by a person (API or console), outside a cycle."""

from __future__ import annotations

from uuid import UUID

from promotion.services.generation_inputs import performance_hints
from variants.models import CreativeVariant
from variants.services.generation import variants_generate
from variants.tasks import renders_queue


def batch_generate_now(
    *, master_id: UUID | str, count: int | None = None, seed: int | None = None
) -> list[CreativeVariant]:
    """Plan and persist 5–15 variants with what the master's delivery has taught, and
    queue their renders once committed. Raises GenerationError or PlanningError (worded
    for people) when the master cannot make a batch."""
    created = variants_generate(
        master_id=master_id,
        count=count,
        seed=seed,
        hints=performance_hints(master_id=master_id),
    )
    renders_queue(v.pk for v in created)
    return created
