"""Captions and text overlays inside the style guide.

Captions are the public face of an ad: they are built from the style guide only (its
`required_phrases` — the wording the team wants said, a product's public name among
them —, `vibes`, `tone` and `cta_text`), never from the master's title, which is the
team's internal working name ("Summer Sale 2027 — hero cut"). The title is handed in
only so that no caption can carry it unless the guide itself says it.

Every caption carries the guide's CTA wording and required phrases, stays within
`max_caption_length` and contains no banned word (whole words, any case). Templates and
words that performed better (`PerformanceHints`) score higher; the planner then samples
among the candidates so that captions vary across a batch.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from productions.choices import FragmentType
from variants.planning.inputs import PerformanceHints, PlanningError
from variants.planning.scoring import clamp01, hint_score
from variants.planning.timing import STRUCTURE_SEGMENTS

DEFAULT_MAX_CAPTION_LENGTH = 125  # Meta truncates primary text after ~125 characters
DEFAULT_CTA_TEXT = "Watch now"
MAX_OVERLAY_LENGTH = 40
_TERMINAL = (".", "!", "?", "…")


@dataclass(frozen=True)
class CaptionRules:
    max_length: int
    banned_words: tuple[str, ...]
    required_phrases: tuple[str, ...]
    cta_text: str
    tone: str
    vibes: tuple[str, ...]

    @classmethod
    def from_style_guide(cls, style_guide: Mapping[str, Any]) -> CaptionRules:
        limit = style_guide.get("max_caption_length") or DEFAULT_MAX_CAPTION_LENGTH
        return cls(
            max_length=int(limit),
            banned_words=tuple(
                str(w).strip() for w in style_guide.get("banned_words") or () if w
            ),
            required_phrases=tuple(
                str(p).strip() for p in style_guide.get("required_phrases") or () if p
            ),
            cta_text=str(style_guide.get("cta_text") or DEFAULT_CTA_TEXT).strip(),
            tone=str(style_guide.get("tone") or "").strip().lower(),
            vibes=tuple(str(v).strip() for v in style_guide.get("vibes") or () if v),
        )


def banned_words_in(text: str, banned: Sequence[str]) -> list[str]:
    """The banned words (or phrases) that occur in `text` as whole words, any case."""
    return [
        word
        for word in banned
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    ]


def caption_violations(caption: str, rules: CaptionRules) -> list[str]:
    """Why `caption` breaks the style guide (empty when it does not)."""
    problems = []
    if len(caption) > rules.max_length:
        problems.append(
            f"{len(caption)} characters, more than max_caption_length "
            f"{rules.max_length}"
        )
    problems += [
        f"banned word {w!r}" for w in banned_words_in(caption, rules.banned_words)
    ]
    lowered = caption.lower()
    problems += [
        f"missing required phrase {p!r}"
        for p in rules.required_phrases
        if p.lower() not in lowered
    ]
    if rules.cta_text and rules.cta_text.lower() not in lowered:
        problems.append(f"missing CTA text {rules.cta_text!r}")
    return problems


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(_TERMINAL) else f"{text}."


def _bare(text: str) -> str:
    return text.strip().rstrip(".!?…:;, ")


def _with_required(text: str, rules: CaptionRules) -> str:
    for phrase in rules.required_phrases:
        if phrase.lower() not in text.lower():
            text = f"{text} {phrase}"
    return text


def check_caption_rules_satisfiable(rules: CaptionRules) -> None:
    """Refuse a style guide that no caption can satisfy, naming the conflict."""
    for phrase in (*rules.required_phrases, rules.cta_text):
        clash = banned_words_in(phrase, rules.banned_words)
        if clash:
            kind = "CTA text" if phrase == rules.cta_text else "Required phrase"
            raise PlanningError(
                f"No caption can satisfy the style guide: {kind} {phrase!r} contains "
                f"the banned word {clash[0]!r}."
            )
    minimal = _with_required(_sentence(rules.cta_text), rules)
    if len(minimal) > rules.max_length:
        raise PlanningError(
            "No caption can satisfy the style guide: the CTA text and required phrases "
            f"({minimal!r}) need {len(minimal)} characters but max_caption_length is "
            f"{rules.max_length}."
        )


@dataclass(frozen=True)
class _Context:
    cta: str
    vibes: tuple[str, ...]
    # The guide's first required phrase: public wording the team chose to lead with.
    phrase: str


@dataclass(frozen=True)
class CaptionTemplate:
    name: str
    tones: frozenset[str]
    build: Callable[[_Context], str | None]


def _vibes(c: _Context) -> str | None:
    if not c.vibes:
        return None
    vibes = " and ".join(v.lower() for v in c.vibes[:2])
    return f"{vibes[0].upper()}{vibes[1:]}"


def _vibe_line(c: _Context) -> str | None:
    vibes = _vibes(c)
    if vibes is None:
        return None
    lead = f"{vibes}: {_sentence(c.phrase)}" if c.phrase else _sentence(vibes)
    return f"{lead} {_sentence(c.cta)}"


def _lead(opening: str, c: _Context) -> str:
    """`opening` then the guide's phrase ("Out now: Summer Sale."), or alone."""
    return f"{opening}: {_sentence(c.phrase)}" if c.phrase else _sentence(opening)


def _cta_first(c: _Context) -> str | None:
    follow = c.phrase or _vibes(c)
    return f"{_bare(c.cta)} — {_sentence(follow)}" if follow else None


# Template names are stable: they are the keys of PerformanceHints'
# caption_template_scores, learned from past ads ("title_cta" now leads with the
# guide's phrase, not the title).
TEMPLATES: tuple[CaptionTemplate, ...] = (
    CaptionTemplate(
        "title_cta",
        frozenset(),
        lambda c: f"{_sentence(c.phrase)} {_sentence(c.cta)}" if c.phrase else None,
    ),
    CaptionTemplate(
        "out_now",
        frozenset({"energetic", "bold", "upbeat", "hype"}),
        lambda c: f"{_lead('Out now', c)} {_sentence(c.cta)}",
    ),
    CaptionTemplate(
        "question",
        frozenset({"playful", "friendly", "casual"}),
        lambda c: f"Have you heard {_bare(c.phrase) or 'it'} yet? {_sentence(c.cta)}",
    ),
    CaptionTemplate("cta_first", frozenset(), _cta_first),
    CaptionTemplate("vibes", frozenset(), _vibe_line),
    CaptionTemplate(
        "turn_it_up",
        frozenset({"energetic", "bold", "upbeat", "hype", "loud"}),
        lambda c: f"{_lead('Turn it up', c)} {_sentence(c.cta)}",
    ),
    CaptionTemplate(
        "press_play",
        frozenset({"calm", "chill", "mellow", "intimate", "warm"}),
        lambda c: f"{_lead('Press play and breathe', c)} {_sentence(c.cta)}",
    ),
    # Always possible once check_caption_rules_satisfiable passed.
    CaptionTemplate("cta_only", frozenset(), lambda c: _sentence(c.cta)),
)


def _leaks_title(text: str, title: str, rules: CaptionRules) -> bool:
    """Whether `text` carries the internal title where the guide did not put it."""
    title = title.strip().lower()
    if not title or title not in text.lower():
        return False
    return not any(
        title in p.lower() for p in (*rules.required_phrases, rules.cta_text)
    )


@dataclass(frozen=True)
class CaptionCandidate:
    template: str
    text: str
    score: float


def caption_candidates(
    *, title: str, rules: CaptionRules, hints: PerformanceHints
) -> list[CaptionCandidate]:
    """Every template's caption that satisfies the rules, scored from the hints.

    `title` is the master's internal working title: no caption is built from it, and
    none that happens to contain it is offered.
    """
    context = _Context(
        cta=rules.cta_text,
        vibes=rules.vibes,
        phrase=rules.required_phrases[0] if rules.required_phrases else "",
    )
    word_scores = {k.lower(): v for k, v in hints.word_scores.items()}
    candidates: list[CaptionCandidate] = []
    seen: set[str] = set()
    for template in TEMPLATES:
        body = template.build(context)
        if body is None:
            continue
        text = _with_required(body, rules)
        if (
            text in seen
            or caption_violations(text, rules)
            or _leaks_title(text, title, rules)
        ):
            continue
        seen.add(text)
        known = [
            clamp01(word_scores[w])
            for w in re.findall(r"\w+", text.lower())
            if w in word_scores
        ]
        words = sum(known) / len(known) if known else 0.5
        tone_bonus = 0.05 if rules.tone and rules.tone in template.tones else 0.0
        score = (
            0.7 * hint_score(hints.caption_template_scores, template.name)
            + 0.3 * words
            + tone_bonus
        )
        candidates.append(
            CaptionCandidate(template.name, text, round(clamp01(score), 4))
        )
    if not candidates:  # unreachable after check_caption_rules_satisfiable
        raise PlanningError("No caption template satisfies the style guide.")
    return candidates


def choose_caption(
    *,
    candidates: Sequence[CaptionCandidate],
    rng: random.Random,
    used: Counter[str],
    exploration: float = 0.05,
) -> CaptionCandidate:
    """Best-scoring caption with a little noise, less likely each time it is reused."""
    return max(
        candidates,
        key=lambda c: c.score + rng.gauss(0.0, exploration) - 0.2 * used[c.text],
    )


def text_overlay(*, structure: str, title: str, rules: CaptionRules) -> str:
    """The on-screen line: the style guide's first required phrase that fits over a hook
    opening, the CTA over a CTA opening (or when no phrase fits).

    Never the master's title: it is the team's internal working name ("Summer Sale
    2027 — hero cut"), not something a viewer should read. `title` is taken only to
    refuse a phrase that would put it on screen anyway.
    """
    cta = _bare(rules.cta_text)[:MAX_OVERLAY_LENGTH]
    if STRUCTURE_SEGMENTS[structure][0][0] == FragmentType.CTA:
        return cta
    internal = title.strip().lower()
    for phrase in rules.required_phrases:
        clean = phrase.strip()
        if (
            clean
            and len(clean) <= MAX_OVERLAY_LENGTH
            and not banned_words_in(clean, rules.banned_words)
            and not (internal and internal in clean.lower())
        ):
            return clean
    return cta
