"""Numbers as the console prints them: percentages, money, ROAS, and a variant's
value on its master's objective ("ROAS 2.31×", "CPA 4.20", "CTR 1.23 %")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from productions.choices import Objective
from promotion.delivery import DeliveryTotals

OBJECTIVE_SHORT = {Objective.ROAS: "ROAS", Objective.CPA: "CPA", Objective.CTR: "CTR"}


def percent(value: float | None, digits: int = 2) -> str:
    # A no-break space: a narrow column must not wrap the unit onto its own line.
    return "—" if value is None else f"{value * 100:.{digits}f}\u00a0%"


def money(value: Any) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def on_objective(objective: str, totals: DeliveryTotals) -> str:
    """The value a master's judges read, with its unit."""
    value = totals.on(objective)
    if objective == Objective.ROAS:
        shown = times(value)
    elif objective == Objective.CPA:
        shown = money(value)
    else:
        shown = percent(value)
    return f"{OBJECTIVE_SHORT.get(Objective(objective), objective)} {shown}"
