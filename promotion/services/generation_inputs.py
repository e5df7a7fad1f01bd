"""What promotion's measurements tell the variant planner, read for one master.

Variants may not read promotion's tables (the arrows point variants → productions
only), so whoever asks for a batch (the cycle, the API, `generate_variants`) reads
the hints here and hands them to `variants_generate`.
"""

from __future__ import annotations

from uuid import UUID

from promotion.performance_hints import hints_from_measurements
from promotion.selectors import master_objective, master_performance_sums
from variants.planning import PerformanceHints


def performance_hints(*, master_id: UUID | str) -> PerformanceHints:
    """The planner's hints from what the variants in the master's scope measured."""
    return hints_from_measurements(
        master_performance_sums(master_id=master_id),
        objective=master_objective(master_id=master_id),
    )
