"""Floods of failed authentication meet a throttle first.

DRF checks throttles after permissions, so an anonymous client or one with a bad
token is answered 401 forever and never slowed down: a token can be guessed at full
speed. This middleware counts, per client address, the API answers that were 401
(no credentials, a bad or expired token). Past API_AUTH_FAILURE_LIMIT within
API_AUTH_FAILURE_WINDOW_SECONDS, every API request from that address is answered 429
with Retry-After before it reaches authentication, until the oldest counted failure
leaves the window. Successful requests are never counted, so a working client is only
slowed down by the ordinary DRF throttles.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from rest_framework.throttling import BaseThrottle

from creative_engine.api.errors import error_json
from creative_engine.api.middleware import APIPathMiddleware

logger = logging.getLogger(__name__)

_KEY = "api-auth-failures:{}"


def client_address(request: HttpRequest) -> str:
    """The address DRF's throttles use (REMOTE_ADDR, or X-Forwarded-For behind the
    configured number of trusted proxies)."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]


def recent_failures(address: str, *, now: float) -> list[float]:
    window = settings.API_AUTH_FAILURE_WINDOW_SECONDS
    history: list[float] = cache.get(_KEY.format(address), [])
    return [t for t in history if t > now - window]


def record_failure(address: str, *, now: float) -> int:
    history = [*recent_failures(address, now=now), now]
    cache.set(
        _KEY.format(address),
        history[-settings.API_AUTH_FAILURE_LIMIT :],
        settings.API_AUTH_FAILURE_WINDOW_SECONDS,
    )
    return len(history)


class AuthFailureFloodMiddleware(APIPathMiddleware):
    def handle(self, request: HttpRequest) -> HttpResponseBase:
        address = client_address(request)
        now = time.time()
        failures = recent_failures(address, now=now)
        if len(failures) >= settings.API_AUTH_FAILURE_LIMIT:
            wait = failures[0] + settings.API_AUTH_FAILURE_WINDOW_SECONDS - now
            refusal = error_json(
                status_code=429,
                code="throttled",
                message=(
                    f"Too many requests from this address failed authentication "
                    f"({settings.API_AUTH_FAILURE_LIMIT} within "
                    f"{settings.API_AUTH_FAILURE_WINDOW_SECONDS} s, "
                    "API_AUTH_FAILURE_LIMIT); wait before trying again."
                ),
            )
            refusal["Retry-After"] = str(max(1, math.ceil(wait)))
            return refusal
        response = self.get_response(request)
        if response.status_code == 401:
            count = record_failure(address, now=now)
            if count == settings.API_AUTH_FAILURE_LIMIT:
                logger.warning(
                    "API authentication failures from %s reached %d in %d s; "
                    "throttling that address",
                    address,
                    count,
                    settings.API_AUTH_FAILURE_WINDOW_SECONDS,
                )
        return response
