"""The AI suggestion port: what to change when a variant wears out (7.x stand-in).

When fatigue retires a variant (promotion.services.fatigue), it asks a
`SuggestionProvider` for a short note a marketer can act on: which fragment is weak
and why. Two providers:

- `RuleBasedSuggestions`, the default: no network, deterministic, names the weakest
  fragment and reads the fatigue numbers (frequency up means the audience has seen
  it too often; the rate down without it means the creative itself wore out).
- `OpenAICompatibleSuggestions`: any server speaking the OpenAI chat-completions
  wire format (OpenAI, Azure-style gateways, vLLM, Ollama, LiteLLM), configured by
  AI_SUGGESTIONS_URL / _API_KEY / _MODEL. A suggestion is advice only, never part of
  the cycle's correctness, so every failure (network, timeout, HTTP error, odd JSON)
  falls back to the rule-based text with a logged warning and is never raised.

The suggestion never chooses fragments: `weak_fragment_id` always comes from the
context (the engine's own measurement), and any replacement is a fragment humans
already approved. The model only words the advice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

logger = logging.getLogger(__name__)

RULE_BASED = "rule_based"
OPENAI_COMPATIBLE = "openai_compatible"
# Frequency up by this fraction counts as the audience seeing the ad too often.
FREQUENCY_RISE = 0.25
MAX_SUGGESTION_CHARS = 600


@dataclass(frozen=True)
class RefreshContext:
    """What the engine measured about a fatigued variant."""

    variant_id: str
    master_title: str
    tone: str
    weak_fragment_id: str
    weak_fragment_type: str  # hook | body | cta | outro
    weak_fragment_label: str
    weak_fragment_score: float  # 0..1, the fragment's measured performance score
    replacement_fragment_id: str | None
    drop: float  # relative drop of the primary metric, 0..1
    frequency_recent: float | None
    frequency_baseline: float | None
    caption: str


@dataclass(frozen=True)
class Suggestion:
    text: str
    weak_fragment_id: str
    reason: str
    provider: str

    def details(self) -> dict[str, str]:
        """JSON-ready, for the refresh's plan_details and the run's decisions."""
        return asdict(self)


class SuggestionProvider(Protocol):
    def suggest_refresh(self, ctx: RefreshContext) -> Suggestion: ...


def frequency_rise(ctx: RefreshContext) -> float | None:
    """Relative rise of frequency from baseline to recent, when both are known."""
    if not ctx.frequency_baseline or ctx.frequency_recent is None:
        return None
    return ctx.frequency_recent / ctx.frequency_baseline - 1.0


class RuleBasedSuggestions:
    """Deterministic advice from the fatigue numbers; the default and the fallback."""

    def suggest_refresh(self, ctx: RefreshContext) -> Suggestion:
        rise = frequency_rise(ctx)
        role = ctx.weak_fragment_type or "fragment"
        weak = f"the {role} '{ctx.weak_fragment_label}'"
        if rise is not None and rise >= FREQUENCY_RISE:
            reason = (
                f"audience saturation: the rate fell {ctx.drop:.0%} while frequency "
                f"rose from {ctx.frequency_baseline:.1f} to {ctx.frequency_recent:.1f}"
            )
        else:
            reason = (
                f"creative wear: the rate fell {ctx.drop:.0%} without a matching rise "
                "in frequency"
            )
        reason += f"; {weak} scores lowest ({ctx.weak_fragment_score:.2f})"
        if ctx.replacement_fragment_id:
            action = (
                f"Replace {weak} with approved fragment {ctx.replacement_fragment_id}"
            )
        else:
            action = (
                f"Replace {weak}; no approved alternative is available yet, "
                f"so ask for a new {role} to be approved"
            )
        text = (
            f"{action} and keep the rest of '{ctx.master_title}' as it is, in a "
            f"{ctx.tone or 'consistent'} tone. Why: {reason}."
        )
        return Suggestion(
            text=text,
            weak_fragment_id=ctx.weak_fragment_id,
            reason=reason,
            provider=RULE_BASED,
        )


class OpenAICompatibleSuggestions:
    """Chat-completions backend; falls back to the rule-based text on any failure."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        max_tokens: int = 200,
    ) -> None:
        parts = urlsplit(base_url)
        # The URL is operator config, but a typo like file:// or a bare host should
        # fail at start-up, not turn into a silent fallback every cycle.
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"AI_SUGGESTIONS_URL must be an http(s) URL, got {base_url!r}."
            )
        self.endpoint = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        self._api_key = api_key
        self._transport = transport
        self._fallback = RuleBasedSuggestions()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleSuggestions({self.endpoint!r}, model={self.model!r})"

    def suggest_refresh(self, ctx: RefreshContext) -> Suggestion:
        rule_based = self._fallback.suggest_refresh(ctx)
        try:
            text = self._complete(self._messages(ctx, rule_based))
        # Advice is optional: no failure of the backend may stop the cycle.
        except Exception as exc:
            logger.warning(
                "AI suggestion for variant %s failed (%s: %s); using the rule-based "
                "text.",
                ctx.variant_id,
                type(exc).__name__,
                exc,
            )
            return Suggestion(
                text=rule_based.text,
                weak_fragment_id=ctx.weak_fragment_id,
                reason=rule_based.reason,
                provider=f"{RULE_BASED} (fallback: {type(exc).__name__})",
            )
        return Suggestion(
            text=text,
            weak_fragment_id=ctx.weak_fragment_id,
            reason=rule_based.reason,
            provider=f"{OPENAI_COMPATIBLE}:{self.model}",
        )

    def _messages(
        self, ctx: RefreshContext, rule_based: Suggestion
    ) -> list[dict[str, str]]:
        system = (
            "You are a performance-marketing creative strategist for short video ads. "
            "Reply with one or two plain sentences a marketer can act on. Suggest only "
            "swapping the named weak fragment; never invent new claims, offers or "
            "hashtags: humans approve every fragment and every word."
        )
        rise = frequency_rise(ctx)
        facts = [
            f"Master video: {ctx.master_title}",
            f"Tone: {ctx.tone or 'unspecified'}",
            f"Caption: {ctx.caption}",
            f"Weak fragment: {ctx.weak_fragment_type} '{ctx.weak_fragment_label}' "
            f"(id {ctx.weak_fragment_id}, score {ctx.weak_fragment_score:.2f})",
            f"Approved replacement: {ctx.replacement_fragment_id or 'none yet'}",
            f"Primary metric drop from baseline: {ctx.drop:.0%}",
            "Frequency change: " + ("unknown" if rise is None else f"{rise:+.0%}"),
            f"Engine's own diagnosis: {rule_based.reason}",
        ]
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": "\n".join(facts)},
        ]

    def _complete(self, messages: list[dict[str, str]]) -> str:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": 0.2,
            "max_tokens": self.max_tokens,
        }
        with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
            response = client.post(self.endpoint, json=payload, headers=headers)
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        if not isinstance(content, str) or not content.strip():
            raise ValueError("the completion has no text")
        text = " ".join(content.split())  # one line, no control characters
        return text[:MAX_SUGGESTION_CHARS]


def suggestion_provider_from_settings(settings_like: Any) -> SuggestionProvider:
    """The configured provider: the HTTP backend when AI_SUGGESTIONS_URL is set.

    Takes Django settings (or any object or mapping with the three names), so
    callers and tests choose what to pass.
    """

    def read(name: str, default: str = "") -> str:
        if isinstance(settings_like, Mapping):
            value = settings_like.get(name, default)
        else:
            value = getattr(settings_like, name, default)
        return str(value or default)

    url = read("AI_SUGGESTIONS_URL")
    if not url:
        return RuleBasedSuggestions()
    return OpenAICompatibleSuggestions(
        base_url=url,
        api_key=read("AI_SUGGESTIONS_API_KEY"),
        model=read("AI_SUGGESTIONS_MODEL", "gpt-4o-mini"),
    )
