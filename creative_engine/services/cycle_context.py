"""What a cycle's steps share: its options, its clock, and where it records.

Two kinds of trouble are kept apart on purpose. A *step failure* (the step raised) means
the engine could not do its job, and only these decide the run's status. A *refusal* is
work declined for one master or variant (no approved fragments, one render that failed)
while the rest of the step went on; it is reported, never mistaken for a failed cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from creative_engine.models import CycleRun


@dataclass(frozen=True)
class CycleOptions:
    """What a run does; SPEC.md's POST /run body plus dry_run."""

    master_creative_ids: tuple[str, ...] = ()
    generate_variants: bool = True
    auto_upload: bool = True
    promote_top_3: bool = True
    dry_run: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CycleOptions:
        return cls(
            master_creative_ids=tuple(
                str(m) for m in data.get("master_creative_ids") or ()
            ),
            generate_variants=bool(data.get("generate_variants", True)),
            auto_upload=bool(data.get("auto_upload", True)),
            promote_top_3=bool(data.get("promote_top_3", True)),
            dry_run=bool(data.get("dry_run", False)),
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["master_creative_ids"] = list(self.master_creative_ids)
        return data


@dataclass
class CycleContext:
    """What every step sees: the run, its clock, its options, and where to record."""

    run: CycleRun
    as_of: dt.datetime
    options: CycleOptions
    counts: dict[str, int] = field(default_factory=dict)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    step_failures: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    # Set by the live-mode preflight: what must stop the cycle or hold a master.
    alerts: list[dict[str, Any]] = field(default_factory=list)
    held_master_ids: list[str] = field(default_factory=list)
    stopped: str = ""  # why the cycle stopped before rendering, if it did

    @property
    def run_id(self) -> str:
        return str(self.run.pk)

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    def count(self, key: str, amount: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + amount

    def decide(
        self,
        *,
        step: str,
        action: str,
        reason: str,
        variant_id: str | UUID | None = None,
        master_id: str | UUID | None = None,
        numbers: dict[str, Any] | None = None,
    ) -> None:
        """Record a decision with its reason and the numbers behind it."""
        self.decisions.append(
            {
                "step": step,
                "action": ("would_" + action) if self.dry_run else action,
                "variant_id": str(variant_id) if variant_id else None,
                "master_id": str(master_id) if master_id else None,
                "reason": reason,
                "numbers": numbers or {},
            }
        )

    def refuse(
        self,
        *,
        step: str,
        error: str,
        master_id: str | UUID | None = None,
        variant_id: str | UUID | None = None,
    ) -> None:
        """Record work declined for one master or variant; the step goes on."""
        self.refusals.append(
            {
                "step": step,
                "master_id": str(master_id) if master_id else None,
                "variant_id": str(variant_id) if variant_id else None,
                "error": error,
            }
        )

    def alert(
        self,
        *,
        message: str,
        step: str = "",
        kind: str = "",
        master_id: str | UUID | None = None,
    ) -> None:
        """Record what a person must act on, shown in the run report and the engine's
        status: a bad token or a refused ad set (the preflight's `step`), a master
        whose testing pool cannot be refilled (its `kind`), and why."""
        where = {"step": step} if step else {"kind": kind}
        self.alerts.append(
            {
                **where,
                "master_id": str(master_id) if master_id else None,
                "message": message,
            }
        )

    def fail_step(self, *, step: str, error: str) -> None:
        """Record a step that raised: the engine could not do that part of its job."""
        self.step_failures.append({"step": step, "error": error})


Step = Callable[[CycleContext], None]
