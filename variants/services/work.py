"""Who works on a variant, and the one message queued for its next work.

Leases: a render or upload claims the variant with a lease (`lease_holder`,
`lease_expires_at`), renewed by a heartbeat while its worker lives
(`lease_heartbeat`, WORK_LEASE_SECONDS, about a minute). The holder is provably gone
when the lease has run out or, on this machine, its process no longer exists; then a
redelivered or re-sent message takes the work over at once. A retry of the same task
(same task id) takes back its own lease.

Dispatch tokens: every message sent for a variant's next work carries a token, saved
on the variant when it is sent (`variant_dispatch_claim`, a conditional UPDATE). A
message whose token is no longer the variant's was superseded and does nothing; the
sweep sends a new one only when the variant's message is provably not in flight. So
the queue holds at most one live message per unit of work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.utils import timezone

from variants.choices import DISPATCHABLE_STATUSES, WORKING_STATUSES
from variants.models import CreativeVariant

logger = logging.getLogger(__name__)


def lease_duration() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WORK_LEASE_SECONDS)


def lease_holder_name(task_id: str | None = None) -> str:
    """This process (and task): host:pid:task."""
    return f"{socket.gethostname()}:{os.getpid()}:{task_id or '-'}"


@dataclass(frozen=True)
class Lease:
    holder: str
    expires_at: dt.datetime | None

    def is_gone(self, *, now: dt.datetime | None = None) -> bool:
        """The holder is provably gone: its lease ran out, or its process on this
        machine no longer exists."""
        if not self.holder:
            return True
        if self.expires_at is None or self.expires_at <= (now or timezone.now()):
            return True
        host, _, rest = self.holder.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def belongs_to(self, holder: str) -> bool:
        """The same task (a retry of it): it may take its own lease back."""
        task = self.holder.rpartition(":")[2]
        return bool(task) and task != "-" and task == holder.rpartition(":")[2]


@dataclass(frozen=True)
class Claim:
    """Who holds a variant's render or upload, and since when: the one place that
    says whether claimed work is abandoned (the sweep) or may be taken over (a
    redelivered or retried task)."""

    lease: Lease
    claimed_at: dt.datetime | None

    @classmethod
    def of(cls, variant: CreativeVariant | Mapping[str, Any]) -> Claim:
        """From a variant, or a row of its `lease_holder`, `lease_expires_at` and
        `status_changed_at` values."""
        if isinstance(variant, Mapping):
            lease = Lease(variant["lease_holder"], variant["lease_expires_at"])
            return cls(lease, variant["status_changed_at"])
        lease = Lease(variant.lease_holder, variant.lease_expires_at)
        return cls(lease, variant.status_changed_at)

    def is_abandoned(
        self, *, stale_after: dt.timedelta, now: dt.datetime | None = None
    ) -> bool:
        """The holder is provably gone. A claim from before leases (no holder, no
        expiry) is judged by its age alone: abandoned once `stale_after` has passed
        since it was made (or with no time)."""
        now = now or timezone.now()
        if not self.lease.holder and self.lease.expires_at is None:
            return self.claimed_at is None or self.claimed_at <= now - stale_after
        return self.lease.is_gone(now=now)

    def may_be_taken_by(self, holder: str, *, stale_after: dt.timedelta) -> bool:
        """`holder` may take the work over: the lease is its own, or abandoned."""
        return self.lease.belongs_to(holder) or self.is_abandoned(
            stale_after=stale_after
        )


def lease_fields(holder: str) -> dict[str, object]:
    """What a claim writes: the holder and its first expiry."""
    return {
        "lease_holder": holder,
        "lease_expires_at": timezone.now() + lease_duration(),
    }


def variant_lease_renew(
    *, variant_id: UUID | str, holder: str, extra: dt.timedelta | None = None
) -> bool:
    """Push the holder's lease on (by a lease, plus `extra` for a retry's countdown);
    False when the holder no longer holds it."""
    until = timezone.now() + lease_duration() + (extra or dt.timedelta())
    return bool(
        CreativeVariant.objects.filter(
            id=variant_id, lease_holder=holder, status__in=list(WORKING_STATUSES)
        ).update(lease_expires_at=until)
    )


@contextlib.contextmanager
def lease_heartbeat(*, variant_id: UUID | str, holder: str) -> Iterator[None]:
    """Renew the holder's lease every third of a lease while the block runs (its own
    thread and database connection)."""
    stop = threading.Event()
    interval = settings.WORK_LEASE_SECONDS / 3

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    variant_lease_renew(variant_id=variant_id, holder=holder)
                except Exception:  # the work goes on; an expired lease is the cost
                    logger.warning("lease heartbeat of variant %s failed", variant_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{variant_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def new_dispatch_token() -> str:
    return uuid.uuid4().hex


def variant_dispatch_claim(
    *, variant_id: UUID | str, expected_token: str, token: str
) -> bool:
    """Record `token` as the variant's one message, if the variant still has
    `expected_token` and work to do; False if someone else dispatched it meanwhile."""
    return bool(
        CreativeVariant.objects.filter(
            id=variant_id,
            dispatch_token=expected_token,
            status__in=list(DISPATCHABLE_STATUSES),
        ).update(dispatch_token=token, dispatched_at=timezone.now())
    )


def dispatch_superseded(*, current: str, token: str | None) -> bool:
    """A message whose token is not the variant's: another message replaced it."""
    return bool(token) and bool(current) and current != token
