"""Create a named Meta object at most once, whatever answers get lost.

Meta has no idempotency keys. What it has is names: every object the engine creates
carries the variant's dedupe key in its name, so "did my create happen?" becomes "is
there an object of that name?". Both clients create through `create_once`, so the
guarantee lives in the client and callers only say whether they are resuming.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from promotion.meta.errors import MetaError
from promotion.meta.retry import may_have_succeeded

T = TypeVar("T")


def create_once(
    *,
    create: Callable[[int], T],
    find: Callable[[], T | None],
    resume: bool,
    wait_or_raise: Callable[[MetaError, int], None],
    adopt: Callable[[T, int], T],
) -> T:
    """Create without ever duplicating.

    1. When resuming (an earlier attempt may have created it), look the object up
       by name first.
    2. Create (`create(attempt)`). On success, done.
    3. On a failure that may have done the work (no answer, reset, 5xx, a transient
       code), look the object up by name before anything else.
    4. Found: it is ours (the name carries the variant's key); `adopt` it.
       Not found: `wait_or_raise` sleeps before the next attempt or raises.
    5. When it raises after such a failure, look once more, so a done create is
       never reported as failed.
    """
    attempt, unsure = 1, resume
    while True:
        if unsure:
            found = find()
            if found is not None:
                return adopt(found, attempt)
        try:
            return create(attempt)
        except MetaError as exc:
            unsure = may_have_succeeded(exc)
            try:
                wait_or_raise(exc, attempt)
            except MetaError:
                found = find() if unsure else None
                if found is not None:
                    return adopt(found, attempt + 1)
                raise
        attempt += 1


def raise_at_once(error: MetaError, attempt: int) -> None:
    """`wait_or_raise` for a client that leaves every retry to its caller's task."""
    raise error
