"""What promotion's measurements tell the variant planner, read for one master or many.

Variants may not read promotion's tables (the arrows point variants → productions
only), so whoever asks for a batch (the cycle, the API, `generate_variants`) reads
the hints here and hands them to `variants_generate`.
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from promotion.performance_hints import hints_from_measurements
from promotion.selectors import master_objectives, masters_performance_sums
from variants.planning import PerformanceHints


def performance_hints(*, master_id: UUID | str) -> PerformanceHints:
    """The planner's hints from what the variants in the master's scope measured."""
    hints = performance_hints_by_master(master_ids=[master_id])
    return hints.get(UUID(str(master_id)), PerformanceHints())


def performance_hints_by_master(
    *, master_ids: Collection[UUID | str]
) -> dict[UUID, PerformanceHints]:
    """Each master's hints, read in four queries whatever the number of masters;
    masters that share a scope (a campaign) and an objective share one computation,
    so a step over many masters does not re-read and re-score the campaign for each."""
    scopes = masters_performance_sums(master_ids=master_ids)
    objectives = master_objectives(master_ids=list(scopes.scope_of))
    drawn: dict[tuple[str, str], PerformanceHints] = {}
    hints: dict[UUID, PerformanceHints] = {}
    for master_id, scope in scopes.scope_of.items():
        objective = objectives[str(master_id)]
        key = (scope, str(objective))
        if key not in drawn:
            drawn[key] = hints_from_measurements(
                scopes.for_master(master_id), objective=objective
            )
        hints[master_id] = drawn[key]
    return hints
