"""Structures and lengths on the 30 fps grid (pure)."""

from pathlib import Path

from variants.planning.timing import (
    STRUCTURE_SEGMENTS,
    allocate_slot_frames,
    apportion,
    fragment_window,
)


def test_the_twelve_second_standard_keeps_the_spec_timings():
    # hook_body_cta: hook 0-3 s, body 3-8 s, CTA 8-12 s
    weights = [w for _, w in STRUCTURE_SEGMENTS["hook_body_cta"]]

    frames = allocate_slot_frames(
        target_frames=360, weights=weights, capacities=[900, 900, 900]
    )

    assert frames == [90, 150, 120]


def test_timings_scale_proportionally_to_a_shorter_target():
    weights = [w for _, w in STRUCTURE_SEGMENTS["cta_forward"]]  # 3 s, 3 s, 6 s

    frames = allocate_slot_frames(
        target_frames=180, weights=weights, capacities=[900, 900, 900]
    )

    assert frames == [45, 45, 90]


def test_a_fragment_shorter_than_its_slot_passes_its_remainder_to_the_others():
    weights = [w for _, w in STRUCTURE_SEGMENTS["hook_body_cta"]]

    # the hook fragment lasts 1 s where its slot wants 3 s
    frames = allocate_slot_frames(
        target_frames=360, weights=weights, capacities=[30, 900, 900]
    )

    assert frames is not None
    assert frames[0] == 30
    assert sum(frames) == 360
    assert frames[1] > 150 and frames[2] > 120


def test_fragments_too_short_together_cannot_fill_the_target():
    assert (
        allocate_slot_frames(
            target_frames=360, weights=[90, 150, 120], capacities=[90, 100, 100]
        )
        is None
    )


def test_apportion_always_adds_up_exactly():
    for total in range(150, 541):
        assert sum(apportion(total, [90, 150, 120, 60])) == total


def test_fragment_windows_keep_only_whole_frames_inside_the_fragment():
    assert fragment_window(0.01, 2.99) == (1, 89)
    assert fragment_window(1.0, 2.0) == (30, 60)


def test_the_planner_imports_without_django_settings_or_any_model():
    # The layering rule: pure planners import no ORM models and need no configuration.
    import subprocess
    import sys

    code = (
        "import sys, variants.planning\n"
        "apps = {'productions', 'variants', 'promotion', 'creative_engine'}\n"
        "loaded = [m for m in sys.modules if m.endswith('.models')"
        " and m.split('.')[0] in apps]\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
