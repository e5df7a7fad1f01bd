"""When to try a Meta call again, and how long to wait: the one policy, pure.

Every retry-or-give-up question about a Meta error is answered here, and only here:
- the client asks `RetryPolicy.decide(error, attempt, rng=...)` after every failed
  attempt, and `may_have_succeeded(error)` before it creates again;
- the upload service asks `is_permanent(error)` (fail the variant, or let the task
  retry) and `is_account_error(error)` (the variant waits for a human);
- the upload task asks `decide_task(error, retries, ...)`: retry with a countdown,
  or give up within the task's bound.
Everything the policy needs travels on the error (code, subcode, is_transient,
response headers), so it is a plain function of its inputs, table-tested without a
network (meta-graph-api.md §6).

Three outcomes per attempt:
- retry inline after `delay_seconds` (capped, jittered backoff, or the wait Meta
  advertises in its usage headers when that is short enough to sleep through);
- reschedule: the wait is longer than a task may hold a worker, so the caller
  raises `MetaRetryLater` and the Celery task comes back with a countdown;
- give up: the error is permanent (token, permission, version, parameter) or the
  attempts are spent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from promotion.meta.errors import (
    CONNECT_ERROR_TYPE,
    PERMISSION_CODES,
    RATE_LIMIT_CODES,
    TOKEN_CODES,
    TRANSIENT_CODES,
    VERSION_CODES,
    MetaAmbiguousError,
    MetaApiError,
    MetaError,
    MetaPermissionError,
    MetaRateLimitError,
    MetaRetryLater,
    MetaTokenError,
    MetaVersionError,
)

INVALID_PARAMETER_CODE = 100
CREATIVE_OOPS_SUBCODE = 1487390  # 100/1487390 "Adcreative Create Failed … Oops"
POLICY_BLOCK_CODE = 368  # temporarily blocked for policy violations
VIDEO_UPLOAD_ERROR_CODES = frozenset({6000, 6001})
UPLOAD_RESUME_SUBCODE = 1363037  # error_data names the offsets to resume at
UPLOAD_TIMED_OUT_SUBCODE = 1363030

USAGE_HEADERS = (
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "x-app-usage",
)


class RandomSource(Protocol):
    def random(self) -> float: ...


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay_seconds: float
    reschedule: bool
    reason: str


class TaskAction(StrEnum):
    RETRY = "retry"  # run the task again after the countdown
    POSTPONE = "postpone"  # give up for now: the variant waits for the sweep
    FAIL = "fail"  # give up: the variant fails with the reason
    STOP = "stop"  # permanent: the service has already recorded it on the variant


@dataclass(frozen=True)
class TaskRetryDecision:
    action: TaskAction
    countdown: float
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for retrying one call, and one task of calls. Delays in seconds."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    # Longest wait we sleep through inside a task; longer waits are rescheduled.
    max_inline_wait: float = 60.0
    # Throttles without an advertised wait back off from a higher floor.
    rate_limit_base_delay: float = 5.0
    creative_oops_max_attempts: int = 3
    policy_block_wait: float = 3600.0
    # A task re-run after a failed attempt: how often, and from what countdown.
    task_max_retries: int = 5
    task_base_countdown: float = 60.0

    def backoff(self, attempt: int, *, rng: RandomSource, base: float = 0.0) -> float:
        """Equal-jitter exponential backoff: half fixed, half random, capped.

        The fixed half keeps a floor under the wait; the random half spreads
        workers that failed together so they do not retry together.
        """
        start = base or self.base_delay
        ceiling = min(self.max_delay, start * (2 ** max(attempt - 1, 0)))
        return ceiling / 2 + rng.random() * ceiling / 2

    def decide(
        self, error: MetaError, attempt: int, *, rng: RandomSource
    ) -> RetryDecision:
        """What to do after `attempt` (1-based) failed with `error`."""
        code = error.code
        subcode = error.subcode
        if isinstance(error, MetaRetryLater):
            return _reschedule(error.retry_after_seconds, "already rescheduled")
        if code in TOKEN_CODES:
            return _give_up(f"token rejected ({code}): renew META_ACCESS_TOKEN")
        if code in PERMISSION_CODES:
            return _give_up(f"permission denied ({code})")
        if code in VERSION_CODES:
            return _give_up(f"API version deprecated ({code}): bump META_API_VERSION")
        if code == INVALID_PARAMETER_CODE:
            if subcode == CREATIVE_OOPS_SUBCODE:
                if attempt < self.creative_oops_max_attempts:
                    return _retry(
                        self.backoff(attempt, rng=rng), "creative create oops (1487390)"
                    )
                return _give_up(
                    f"creative create oops (1487390) after {attempt} attempts"
                )
            return _give_up(f"invalid parameter ({code}/{subcode})")
        if code == POLICY_BLOCK_CODE:
            return _reschedule(self.policy_block_wait, "blocked for policy (368)")
        if code in VIDEO_UPLOAD_ERROR_CODES:
            return self._decide_upload(error, attempt, rng=rng)
        if code in RATE_LIMIT_CODES:
            return self._decide_throttle(error, attempt, rng=rng)
        if _is_transient(error):
            if attempt >= self.max_attempts:
                return _give_up(f"still failing after {attempt} attempts: {error}")
            kind = "ambiguous" if isinstance(error, MetaAmbiguousError) else "transient"
            return _retry(self.backoff(attempt, rng=rng), f"{kind} ({code})")
        return _give_up(f"not retryable ({code}/{subcode})")

    def is_permanent(self, error: MetaError) -> bool:
        """Whether trying the same work again later cannot succeed."""
        if isinstance(error, MetaRetryLater):
            return False
        if is_account_error(error):
            return True
        decision = self.decide(error, 1, rng=_NO_JITTER)
        return not (decision.retry or decision.reschedule)

    def decide_task(
        self,
        error: MetaError,
        retries: int,
        *,
        rng: RandomSource,
        max_countdown: float,
    ) -> TaskRetryDecision:
        """What a task should do after its attempt `retries + 1` raised `error`.

        Permanent errors stop it. Otherwise it retries at most `task_max_retries`
        times, after Meta's wait when Meta named one, else after equal-jitter
        exponential backoff from `task_base_countdown`, never beyond
        `max_countdown`; then it gives up, postponing (the sweep tries again later)
        when Meta was only throttling, failing otherwise.
        """
        if self.is_permanent(error):
            return TaskRetryDecision(TaskAction.STOP, 0.0, f"permanent: {error}")
        attempt = retries + 1
        bounded = replace(self, max_attempts=self.task_max_retries + 1)
        decision = bounded.decide(error, attempt, rng=rng)
        gave_up = not (decision.retry or decision.reschedule)
        if gave_up or retries >= self.task_max_retries:
            throttled = isinstance(error, MetaRateLimitError | MetaRetryLater)
            postpone = throttled or decision.reschedule
            return TaskRetryDecision(
                TaskAction.POSTPONE if postpone else TaskAction.FAIL,
                0.0,
                f"Gave up after {attempt} attempts: {error}",
            )
        if isinstance(error, MetaRetryLater):
            wanted = error.retry_after_seconds
        else:
            ceiling = self.task_base_countdown * 2**retries
            backoff = ceiling / 2 + rng.random() * ceiling / 2
            wanted = max(decision.delay_seconds, backoff)
        countdown = float(min(max(wanted, 1.0), max_countdown))
        return TaskRetryDecision(TaskAction.RETRY, countdown, decision.reason)

    def _decide_throttle(
        self, error: MetaError, attempt: int, *, rng: RandomSource
    ) -> RetryDecision:
        advertised = advertised_wait_seconds(_headers_of(error))
        backoff = self.backoff(attempt, rng=rng, base=self.rate_limit_base_delay)
        delay = max(advertised, backoff)
        reason = f"throttled ({error.code}), advertised wait {advertised:.0f}s"
        # A throttle always lifts: when the attempts are spent, come back later
        # rather than failing the variant.
        if delay > self.max_inline_wait or attempt >= self.max_attempts:
            return _reschedule(max(delay, self.max_delay), reason)
        return _retry(delay, reason)

    def _decide_upload(
        self, error: MetaError, attempt: int, *, rng: RandomSource
    ) -> RetryDecision:
        if attempt >= self.max_attempts:
            return _give_up(f"video upload failing after {attempt} attempts")
        if error.subcode == UPLOAD_RESUME_SUBCODE:
            return _retry(0.0, "resume upload at the offsets Meta names (1363037)")
        if error.subcode == UPLOAD_TIMED_OUT_SUBCODE or _is_transient(error):
            return _retry(self.backoff(attempt, rng=rng), "video upload interrupted")
        return _give_up(f"video upload rejected ({error.code}/{error.subcode})")


DEFAULT_RETRY_POLICY = RetryPolicy()

# Errors about the account, not the request: a human must fix the token, the
# permissions or the API version before anything can succeed.
_ACCOUNT_ERRORS = (MetaTokenError, MetaPermissionError, MetaVersionError)


def is_account_error(error: MetaError) -> bool:
    """Whether the error is about the account (token, permission, version)."""
    return isinstance(error, _ACCOUNT_ERRORS)


def may_have_succeeded(error: MetaError) -> bool:
    """After this failure, might Meta have done the work anyway?

    Throttles and permanent errors are refusals; anything else (no answer, reset,
    5xx, unknown or transient codes) could hide a done write, so a create is looked
    up by name before it is tried again.
    """
    if isinstance(error, MetaAmbiguousError):
        return True
    if isinstance(error, MetaRateLimitError):
        return False
    if not isinstance(error, MetaApiError) or error.error_type == CONNECT_ERROR_TYPE:
        return False
    if error.http_status is not None and error.http_status >= 500:
        return True
    return error.is_transient or error.code in TRANSIENT_CODES


def advertised_wait_seconds(headers: Mapping[str, str] | None) -> float:
    """The longest wait Meta advertises in its usage headers, in seconds.

    `estimated_time_to_regain_access` is in minutes (X-Business-Use-Case-Usage,
    also accepted in the other two); `reset_time_duration` of X-Ad-Account-Usage
    is in seconds and counts only once the account is at 100 %.
    """
    if not headers:
        return 0.0
    lowered = {str(k).lower(): v for k, v in headers.items()}
    waits = [0.0]
    for name in USAGE_HEADERS:
        parsed = _json_header(lowered.get(name))
        for entry in _usage_entries(parsed):
            minutes = _as_float(entry.get("estimated_time_to_regain_access"))
            waits.append(minutes * 60)
            at_limit = _as_float(entry.get("acc_id_util_pct")) >= 100
            if name == "x-ad-account-usage" and at_limit:
                waits.append(_as_float(entry.get("reset_time_duration")))
    waits.append(_as_float(lowered.get("retry-after")))
    return max(waits)


def usage_percent(headers: Mapping[str, str] | None) -> float:
    """The highest usage percentage any header reports (100 = throttled)."""
    if not headers:
        return 0.0
    lowered = {str(k).lower(): v for k, v in headers.items()}
    keys = (
        "call_count",
        "total_cputime",
        "total_time",
        "acc_id_util_pct",
        "app_id_util_pct",
    )
    pct = [0.0]
    for name in (*USAGE_HEADERS, "x-fb-ads-insights-throttle"):
        for entry in _usage_entries(_json_header(lowered.get(name))):
            pct.extend(_as_float(entry.get(k)) for k in keys)
    return max(pct)


def _usage_entries(parsed: Any) -> list[Mapping[str, Any]]:
    """Flatten both header shapes: a flat object, or {object_id: [entries]}."""
    if not isinstance(parsed, Mapping):
        return []
    nested = [v for v in parsed.values() if isinstance(v, list)]
    if not nested:
        return [parsed]
    return [e for entries in nested for e in entries if isinstance(e, Mapping)]


def _json_header(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _as_float(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _headers_of(error: MetaError) -> Mapping[str, str]:
    return error.headers if isinstance(error, MetaApiError) else {}


def _is_transient(error: MetaError) -> bool:
    if isinstance(error, MetaAmbiguousError):
        return True
    if error.code in TRANSIENT_CODES:
        return True
    return isinstance(error, MetaApiError) and error.is_transient


def _retry(delay: float, reason: str) -> RetryDecision:
    return RetryDecision(
        retry=True, delay_seconds=delay, reschedule=False, reason=reason
    )


def _reschedule(delay: float, reason: str) -> RetryDecision:
    return RetryDecision(
        retry=False, delay_seconds=delay, reschedule=True, reason=reason
    )


def _give_up(reason: str) -> RetryDecision:
    return RetryDecision(
        retry=False, delay_seconds=0.0, reschedule=False, reason=reason
    )


class _NoJitter:
    """Whether an error is retryable does not depend on the draw."""

    def random(self) -> float:
        return 0.0


_NO_JITTER = _NoJitter()
