"""Faults armed per method and path regex: errors (5xx or Meta's envelope), slow
answers, lost answers and throttles, and interrupted chunk transfers.

The request handler takes the first armed fault matching each request and plays
it on the wire."""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.graph_server.errors import buc_usage_header, graph_error_body


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    kind: str  # fail | timeout | lose | upload_interrupt
    remaining: int
    when: Mapping[str, str] = field(default_factory=dict)
    status: int = 500
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    work: str = "before"  # timeout: do the work before / after the wait, or none
    mode: str = "drop"  # lose: drop the connection, reset it, or answer 502
    keep_bytes: int | None = None
    # Below 1: the fault fires on that share of the matching requests (seeded).
    probability: float = 1.0
    rng: random.Random | None = None

    def matches(self, method: str, path: str, params: Mapping[str, Any]) -> bool:
        if self.method not in ("*", method):
            return False
        if not self.pattern.search(path):
            return False
        return all(str(params.get(k)) == v for k, v in self.when.items())


class FaultQueue:
    """Faults armed for the next matching requests, first armed first used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.fired: list[tuple[str, str, str]] = []  # (kind, method, path)

    def _arm(
        self,
        method: str,
        path_regex: str,
        kind: str,
        *,
        times: int,
        when: Mapping[str, str] | None,
        **details: Any,
    ) -> Fault:
        fault = Fault(
            method=method,
            pattern=re.compile(path_regex),
            kind=kind,
            remaining=times,
            when=dict(when or {}),
            **details,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 500,
        error: Mapping[str, Any] | None = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer `status` without doing the work.

        `error` is the full envelope (`graph_error_body(...)`) or just its inner
        object; `body` sends raw bytes instead (e.g. b"" or an HTML page).
        Neither: Meta's code 2 "Service temporarily unavailable".
        """
        if body is None:
            if error is None:
                error = graph_error_body(
                    2, "Service temporarily unavailable", is_transient=True
                )
            elif "error" not in error:
                error = {"error": dict(error)}
            raw = json.dumps(error).encode()
        else:
            raw = body.encode() if isinstance(body, str) else body
        return self._arm(
            method,
            path_regex,
            "fail",
            times=times,
            when=when,
            status=status,
            body=raw,
            headers=dict(headers or {}),
        )

    def timeout_next(
        self,
        method: str,
        path_regex: str,
        *,
        seconds: float = 2.0,
        work: str = "before",
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Hold the answer `seconds` (longer than the client's timeout).

        work="before": the work is done, only the answer is late (the nasty case);
        "after": the work happens after the wait; "none": never done.
        """
        if work not in ("before", "after", "none"):
            raise ValueError(work)
        return self._arm(
            method,
            path_regex,
            "timeout",
            times=times,
            when=when,
            seconds=seconds,
            work=work,
        )

    def lose_response_next(
        self,
        method: str,
        path_regex: str,
        *,
        mode: str = "drop",
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Do the work, then lose the answer: close the connection ("drop"),
        reset it ("reset"), or answer 502 with an empty body ("502")."""
        if mode not in ("drop", "reset", "502"):
            raise ValueError(mode)
        return self._arm(method, path_regex, "lose", times=times, when=when, mode=mode)

    def rate_limit_next(
        self,
        method: str,
        path_regex: str,
        *,
        code: int = 17,
        subcode: int | None = 2446079,
        eta_minutes: float = 0.0,
        account_id: str = "act_1001",
        kind: str = "ads_management",
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> Fault:
        """Throttle: 400 with the code and X-Business-Use-Case-Usage carrying
        `estimated_time_to_regain_access` (minutes)."""
        messages = {
            4: "Application request limit reached",
            17: "User request limit reached",
            32: "Page request limit reached",
            613: "Calls to this api have exceeded the rate limit.",
        }
        message = f"(#{code}) {messages.get(code, 'There have been too many calls')}"
        body = graph_error_body(code, message, subcode=subcode, is_transient=True)
        headers = buc_usage_header(account_id, minutes=eta_minutes, kind=kind)
        return self.fail_next(
            method,
            path_regex,
            status=400,
            error=body,
            headers=headers,
            times=times,
            when=when,
        )

    def lose_response_randomly(
        self,
        method: str,
        path_regex: str,
        *,
        rate: float,
        seed: int,
        mode: str = "drop",
    ) -> Fault:
        """Do the work, then lose the answer of `rate` of the matching requests, for
        as long as the fault stays armed (a seeded draw per request)."""
        return self._arm(
            method,
            path_regex,
            "lose",
            times=10**9,
            when=None,
            mode=mode,
            probability=rate,
            rng=random.Random(seed),
        )

    def upload_interrupt_next(
        self, *, keep_bytes: int | None = None, times: int = 1
    ) -> Fault:
        """On the next chunk transfer keep only `keep_bytes` of it (default: half)
        and answer 6001/1363037 naming the offsets to resume at."""
        return self._arm(
            "POST",
            r"act_\d+/advideos$",
            "upload_interrupt",
            times=times,
            when={"upload_phase": "transfer"},
            keep_bytes=keep_bytes,
        )

    def take(self, method: str, path: str, params: Mapping[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path, params):
                    if (
                        fault.rng is not None
                        and fault.rng.random() >= fault.probability
                    ):
                        continue
                    fault.remaining -= 1
                    self.fired.append((fault.kind, method, path))
                    return fault
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
