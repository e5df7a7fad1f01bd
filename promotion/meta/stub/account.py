"""`StubAccount`: the stub's ad account, kept in the database (`StubMetaObject`).

One account per seed, so workers and `run_cycle --as-of` runs in separate processes
see one market. Missing objects fail as Meta's do (code 100, subcode 33).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from promotion.choices import StubObjectKind
from promotion.meta.stub.failures import invalid_parameter
from promotion.meta.stub.ids import ID_PREFIX, numeric_id
from promotion.models import StubMetaObject


class StubAccount:
    """The objects of one seed's account: created with Meta-shaped ids, found by
    name, read by id."""

    def __init__(
        self,
        *,
        seed: int,
        clock: Callable[[], dt.datetime] | None,
        default_daily_budget_minor: int,
    ) -> None:
        self.seed = seed
        self._clock = clock or timezone.now
        self._default_budget_minor = default_daily_budget_minor

    def _now(self) -> dt.datetime:
        now = self._clock()
        if timezone.is_naive(now):
            raise ValueError("The stub's clock must return aware datetimes.")
        return now

    def _create(
        self,
        kind: str,
        name: str,
        *,
        parent: str = "",
        status: str = "",
        payload: Mapping[str, Any],
        history: list[dict[str, Any]] | None = None,
    ) -> StubMetaObject:
        prefix = ID_PREFIX[kind]
        ordinal = StubMetaObject.objects.filter(
            seed=self.seed, kind=kind, name=name
        ).count()
        while True:
            try:
                with transaction.atomic():
                    return StubMetaObject.objects.create(
                        seed=self.seed,
                        kind=kind,
                        meta_id=numeric_id(self.seed, prefix, kind, name, ordinal),
                        name=name,
                        parent_meta_id=parent,
                        status=str(status),
                        payload=dict(payload),
                        history=history or [],
                        created_at=self._now(),
                    )
            except IntegrityError:
                ordinal += 1

    def _find(self, kind: str, name: str) -> str | None:
        return (
            StubMetaObject.objects.filter(seed=self.seed, kind=kind, name=name)
            .values_list("meta_id", flat=True)
            .first()
        )

    def _get(
        self, kind: str, meta_id: str, *, for_update: bool = False
    ) -> StubMetaObject:
        queryset = StubMetaObject.objects.filter(
            seed=self.seed, kind=kind, meta_id=meta_id
        )
        if for_update:
            queryset = queryset.select_for_update()
        obj = queryset.first()
        if obj is None:
            raise invalid_parameter(
                f"Unsupported get request. Object with ID '{meta_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support "
                "this operation.",
                subcode=33,
            )
        return obj

    def _ensure_adset(self, adset_id: str) -> StubMetaObject:
        """The stub account has every ad set it is told about, with a default budget."""
        if not adset_id:
            raise invalid_parameter("Invalid parameter: adset_id is required")
        now = self._now()
        adset, _ = StubMetaObject.objects.get_or_create(
            seed=self.seed,
            kind=StubObjectKind.ADSET,
            meta_id=adset_id,
            defaults={
                "name": f"Stub ad set {adset_id}",
                "status": "ACTIVE",
                "payload": {
                    "campaign_id": numeric_id(self.seed, "1202", "campaign", adset_id),
                    "daily_budget_minor": self._default_budget_minor,
                },
                "history": [
                    {
                        "at": now.isoformat(),
                        "daily_budget_minor": self._default_budget_minor,
                    }
                ],
                "created_at": now,
            },
        )
        return adset
