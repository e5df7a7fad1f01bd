"""Readable names for variants: what a marketer sees wherever a variant is named.

"Neon Nights · #1.3 · Hook→Body→CTA · 10 s · look Warm" says which master, which batch
and number, and what makes this cut different, so no page has to show a UUID.
"""

from productions.choices import NarrativeStructure

STRUCTURE_SHORT_LABELS: dict[str, str] = {
    NarrativeStructure.HOOK_BODY_CTA: "Hook→Body→CTA",
    NarrativeStructure.HOOK_INVERTED: "CTA→Body→Hook",
    NarrativeStructure.CTA_FORWARD: "CTA→Hook→Body",
}
NAME_SEPARATOR = " · "
MASTER_TITLE_MAX_CHARS = 40


def structure_label(structure: str) -> str:
    return STRUCTURE_SHORT_LABELS.get(structure, structure.replace("_", " "))


def look_label(look: str) -> str:
    return (look or "natural").replace("_", " ").replace("-", " ").capitalize()


def variant_display_name(
    *,
    master_title: str,
    batch_number: int,
    variant_number: int,
    structure: str,
    duration_seconds: float,
    look: str,
) -> str:
    title = master_title.strip()
    if len(title) > MASTER_TITLE_MAX_CHARS:
        title = title[: MASTER_TITLE_MAX_CHARS - 1].rstrip() + "…"
    return NAME_SEPARATOR.join(
        (
            title,
            f"#{batch_number}.{variant_number}",
            structure_label(structure),
            f"{duration_seconds:.0f} s",
            f"look {look_label(look)}",
        )
    )
