"""How good are the engine's decisions? Regret of top-3 promotion and fatigue detection.

Runs the real cycle services (insights, fatigue, generation, upload, promotion) on the
stub market for many simulated 12-hour cycles over several masters, in a throw-away
SQLite database. Rendering is replaced by a stand-in (a tiny file per variant): the
market judges what a viewer sees from the variant's plan, not from pixels, and renders
are benchmarked by bench/render.py.

After each cycle, for every master, three policies pick 3 of the live variants:
- ours: the variants the engine made ACTIVE (padded, while the evidence gates hold
  some back, with the next best by posterior mean — what it would pick next);
- random: uniform 3 of the live pool (its expectation, computed exactly);
- greedy: the 3 best by observed CTR so far.
Regret = mean true rate of the oracle's top 3 (the simulator's truth, fatigue
included) − mean true rate of the pick, in the metric the engine ranked by.
Fatigue: every variant the engine archived as fatigued is checked against the truth
(true drop ≥ 20 % at that moment = hit, else false alarm); recall counts the variants
whose true rate had dropped ≥ 20 % after 14+ live days at some cycle.

Every id the run creates is drawn from the seed, so a seed is one reproducible market
(fragments' hidden appeal is keyed by their ids). One market is one draw: a policy can
win or lose a single seed by luck, so the benchmark runs several seeds in parallel
processes and reports the mean with its standard error, and the paired difference
ours − greedy per seed (a difference whose interval excludes 0 is not luck).

    .venv/bin/python bench/decisions.py [--cycles 60] [--masters 3] [--seeds 1,2,3,4]
        [--jobs N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup_django(workdir: Path, seed: int) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["CREATIVE_ENGINE_MODE"] = "stub"
    os.environ["META_STUB_SEED"] = str(seed)
    os.environ["META_STUB_UPLOAD_FAILURE_RATE"] = "0.1"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _seed_primary_keys(seed)


def _seed_primary_keys(seed: int) -> None:
    """UUID primary keys drawn from the seed: the same seed, the same market."""
    from django.apps import apps
    from django.db import models

    rng = random.Random(seed)

    def seeded_uuid4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    for model in apps.get_models():
        pk = model._meta.pk
        if isinstance(pk, models.UUIDField) and pk.default is uuid.uuid4:
            pk.default = seeded_uuid4
            pk.__dict__.pop("_get_default", None)  # a cached_property on Field


def _make_masters(count: int) -> list[Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from productions.guard import actor_for_user
    from productions.services import FragmentData, fragments_approve, production_create

    user = get_user_model().objects.create(username="bench-admin")
    user.groups.add(Group.objects.get(name="admin"))
    actor = actor_for_user(get_user_model().objects.get(pk=user.pk))
    cuts = [
        ("hook", 0.0, 3.0),
        ("hook", 3.0, 5.5),
        ("hook", 10.0, 13.0),
        ("hook", 6.0, 9.0),
        ("body", 5.0, 12.0),
        ("body", 11.0, 18.0),
        ("body", 2.0, 9.0),
        ("cta", 16.0, 20.0),
        ("cta", 13.5, 17.0),
        ("outro", 18.5, 20.0),
    ]
    masters = []
    for index in range(count):
        master = production_create(
            actor=actor,
            title=f"Bench master {index + 1}",
            video_url=f"https://cdn.example.com/bench-{index}.mp4",
            duration=20.0,
            authorized_pixels=["1234567890123"],
            authorized_subgenres=["synthwave", "indie pop"],
            genre="music",
            style_guide={
                "tone": "energetic",
                "hashtags": ["#newmusic", "#livetour", "#nowplaying"],
                "max_caption_length": 125,
                "cta_text": "Listen now",
                "link_url": "https://example.com/listen",
                "luts": {"warm": {"warmth": 0.1}, "punchy": {"contrast": 1.2}},
            },
            campaign_id=f"12021000000{index:04d}",
            adset_id=f"12022000000{index:04d}",
            fragments=[FragmentData(t, a, b, f"{t} {a}") for t, a, b in cuts],
        )
        fragments_approve(
            actor=actor, fragment_ids=master.fragment_set.values_list("pk", flat=True)
        )
        masters.append(master)
    return masters


def _stand_in_render_and_upload(ctx: Any) -> None:
    """Drafts become 'rendered' with a tiny file; rendered variants are uploaded."""
    from django.core.files.base import ContentFile

    from promotion.services.upload import variant_upload
    from variants.choices import VariantStatus
    from variants.models import CreativeVariant
    from variants.services.lifecycle import variant_transition

    for variant in CreativeVariant.objects.filter(status=VariantStatus.DRAFT):
        variant_transition(
            variant_id=variant.pk, from_statuses=["draft"], to_status="rendering"
        )
        variant.video_file.save(
            f"{variant.pk}.mp4", ContentFile(b"\0" * 4096), save=False
        )
        variant.poster_file.save(
            f"{variant.pk}.jpg", ContentFile(b"\xff\xd8"), save=False
        )
        variant_transition(
            variant_id=variant.pk,
            from_statuses=["rendering"],
            to_status="rendered",
            video_file=variant.video_file.name,
            poster_file=variant.poster_file.name,
            probed_duration=variant.duration_seconds,
        )
    for pk in CreativeVariant.objects.filter(
        status=VariantStatus.RENDERED, meta_ad_id=""
    ).values_list("pk", flat=True):
        try:
            variant_upload(variant_id=pk, run_id=ctx.run_id, as_of=ctx.as_of)
        except Exception as exc:  # transient stub failures: the next cycle retries
            ctx.count("upload_errors")
            ctx.refuse(step="upload", variant_id=pk, error=str(exc))


def _true_rate(truth: Any, exposure: float, metric: str) -> float:
    multiplier = truth.fatigue_multiplier(exposure)
    rate = truth.ctr if metric == "ctr" else truth.ctr * truth.cvr
    return rate * multiplier


def _measure(
    masters: list[Any], as_of: dt.datetime, seed: int, rng: random.Random
) -> list[dict]:
    from promotion.meta.stub import load_stub_market
    from promotion.ranking import RankingPolicy, rank_master
    from promotion.services.promote import candidates_for, live_variants_with_metrics

    market = load_stub_market(seed=seed)
    rows = []
    for master in masters:
        variants = live_variants_with_metrics(master_id=master.pk)
        if len(variants) < 4:
            continue
        result = rank_master(
            candidates_for(variants, as_of=as_of),
            policy=RankingPolicy(),
            seed=0,
            as_of=as_of.date(),
        )
        metric = result.metric
        true = {
            str(v.pk): _true_rate(
                market.truth(v.meta_ad_id),
                market.exposure_days(v.meta_ad_id, as_of.date()),
                metric,
            )
            for v in variants
        }
        oracle = sorted(true.values(), reverse=True)[:3]
        best = statistics.fmean(oracle)
        active = [str(v.pk) for v in variants if v.status == "active"]
        by_mean = [
            j.variant_id
            for j in sorted(
                result.judgements, key=lambda j: (-j.posterior_mean, j.variant_id)
            )
        ]
        ours = (active + [r for r in by_mean if r not in active])[:3]
        posterior_top = by_mean[:3]
        # The best any policy could do without judging variants below the gates.
        eligible = sorted(
            (true[j.variant_id] for j in result.judgements if j.eligible),
            reverse=True,
        )
        gated_best = (
            eligible[:3]
            + sorted(
                (true[j.variant_id] for j in result.judgements if not j.eligible),
                reverse=True,
            )[: max(0, 3 - len(eligible))]
        )
        observed = {}
        for v in variants:
            days = list(v.daily_metrics.all())
            impressions = sum(d.impressions for d in days)
            observed[str(v.pk)] = (
                sum(d.clicks for d in days) / impressions if impressions else -1.0
            )
        greedy = sorted(observed, key=lambda k: (-observed[k], k))[:3]
        rows.append(
            {
                "ours": best - statistics.fmean(true[v] for v in ours),
                "posterior": best - statistics.fmean(true[v] for v in posterior_top),
                "gated_oracle": best - statistics.fmean(gated_best[:3]),
                "n_active": len(active),
                "random": best - statistics.fmean(true.values()),
                "greedy": best - statistics.fmean(true[v] for v in greedy),
                "scale": best,
                "metric": metric,
            }
        )
    return rows


def _fatigue_scores(
    flags: list[tuple[str, dt.datetime]], live_log: dict, seed: int
) -> dict:
    from promotion.meta.stub import load_stub_market
    from variants.models import CreativeVariant

    market = load_stub_market(seed=seed)
    ads = dict(
        CreativeVariant.objects.exclude(meta_ad_id="").values_list("pk", "meta_ad_id")
    )
    ads = {str(k): v for k, v in ads.items()}

    def truly_decayed(variant_id: str, at: dt.datetime) -> bool:
        ad = ads[variant_id]
        return (
            market.truth(ad).fatigue_multiplier(market.exposure_days(ad, at.date()))
            <= 0.8
        )

    from promotion.fatigue import FatiguePolicy

    enough = FatiguePolicy().min_window_impressions
    hits = sum(1 for vid, at in flags if truly_decayed(vid, at))
    positives = {
        vid
        for vid, moments in live_log.items()
        if any(age >= 14 and truly_decayed(vid, at) for at, age, _ in moments)
    }
    # Decays a detector could see: the variant's last week had the impressions the
    # rule asks for (a test ad on a starved ad set gets a few hundred a week).
    measurable = {
        vid
        for vid, moments in live_log.items()
        if any(
            age >= 14 and week >= enough and truly_decayed(vid, at)
            for at, age, week in moments
        )
    }
    flagged = {vid for vid, _ in flags}
    return {
        "flags": len(flags),
        "hits": hits,
        "false_alarm_rate": (len(flags) - hits) / len(flags) if flags else 0.0,
        "positives": len(positives),
        "caught": len(positives & flagged),
        "recall": len(positives & flagged) / len(positives)
        if positives
        else float("nan"),
        "measurable": len(measurable),
        "measurable_caught": len(measurable & flagged),
    }


def _recent_week_impressions(as_of: dt.datetime) -> dict[Any, int]:
    """Impressions per variant over the 7 complete days before `as_of`."""
    from django.db.models import Sum

    from promotion.models import VariantDailyMetric

    today = as_of.date()
    return dict(
        VariantDailyMetric.objects.filter(
            date__gte=today - dt.timedelta(days=7), date__lt=today
        )
        .values_list("variant_id")
        .annotate(n=Sum("impressions"))
    )


def run_one(*, cycles: int, masters: int, seed: int) -> dict[str, Any]:
    """One market, one seed: the mean regrets and fatigue scores."""
    with tempfile.TemporaryDirectory() as tmp:
        _setup_django(Path(tmp), seed)
        from creative_engine.services import steps
        from creative_engine.services.cycle import cycle_execute, cycle_request
        from variants.models import CreativeVariant

        created = _make_masters(masters)
        start = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.UTC)
        rng = random.Random(seed)
        regret: list[dict] = []
        flags: list[tuple[str, dt.datetime]] = []
        live_log: dict[str, list[tuple[dt.datetime, float, int]]] = {}
        began = time.monotonic()
        for cycle in range(cycles):
            as_of = start + dt.timedelta(hours=12 * cycle)
            run = cycle_request(as_of=as_of)
            run = cycle_execute(
                run_id=run.pk,
                steps=[
                    ("collect_insights", steps.collect_insights),
                    ("fatigue", steps.handle_fatigue),
                    ("generate", steps.generate_variants),
                    ("render_and_upload", _stand_in_render_and_upload),
                    ("promote", steps.promote_top_variants),
                ],
            )
            flags += [
                (d["variant_id"], as_of)
                for d in run.decisions
                if d["action"] == "archive_fatigued"
            ]
            week = _recent_week_impressions(as_of)
            for v in CreativeVariant.objects.filter(
                status__in=["testing", "active"]
            ).exclude(uploaded_at=None):
                age = (as_of - v.uploaded_at).total_seconds() / 86400
                live_log.setdefault(str(v.pk), []).append(
                    (as_of, age, week.get(v.pk, 0))
                )
            if cycle >= 4:  # judge once the first variants can pass the 48 h gate
                regret += _measure(created, as_of, seed, rng)
        elapsed = time.monotonic() - began
        fatigue = _fatigue_scores(flags, live_log, seed)
        total_variants = CreativeVariant.objects.count()

    def mean(key: str) -> float:
        return statistics.fmean(r[key] for r in regret) if regret else float("nan")

    scale = mean("scale")
    return {
        "seed": seed,
        "variants": total_variants,
        "seconds": elapsed,
        "judgements": len(regret),
        "scale": scale,
        # Regret as a share of the oracle's rate: comparable across markets.
        **{
            key: mean(key) / scale
            for key in ("ours", "posterior", "gated_oracle", "greedy", "random")
        },
        "n_active": mean("n_active"),
        **fatigue,
    }


def _mean_and_error(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, float("nan")
    return mean, statistics.stdev(values) / math.sqrt(len(values))


def _run_child(cycles: int, masters: int, seed: int) -> dict[str, Any]:
    """Each seed in its own process: Django is set up once per database."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            f"--cycles={cycles}",
            f"--masters={masters}",
            f"--seeds={seed}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seed {seed} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"cycles {args.cycles} × masters {args.masters} × seeds {len(results)}; "
        "regret per judgement as a share of the oracle's top-3 true rate "
        "(lower is better)"
    )
    print(
        f"{'seed':>6} {'variants':>8} {'judged':>6} {'ours':>7} {'greedy':>7} "
        f"{'random':>7} {'post.':>7} {'ours/greedy':>11} {'recall':>7} {'f.alarm':>7}"
    )
    for r in results:
        print(
            f"{r['seed']:>6} {r['variants']:>8} {r['judgements']:>6} "
            f"{r['ours']:>7.1%} {r['greedy']:>7.1%} {r['random']:>7.1%} "
            f"{r['posterior']:>7.1%} {r['ours'] / r['greedy']:>11.2f} "
            f"{r['recall']:>7.2f} {r['false_alarm_rate']:>7.2f}"
        )
    means = {
        key: _mean_and_error([r[key] for r in results])
        for key in ("ours", "greedy", "random", "posterior", "gated_oracle")
    }
    for key, (mean, error) in means.items():
        label = {
            "posterior": "posterior top 3, gates ignored",
            "gated_oracle": "oracle among the variants past the gates (the gates' cost)",
        }.get(key, key)
        print(f"mean {label}: {mean:.2%} ± {error:.2%} (standard error)")
    for baseline in ("greedy", "random"):
        diff, error = _mean_and_error([r["ours"] - r[baseline] for r in results])
        wins = sum(r["ours"] < r[baseline] for r in results)
        print(
            f"ours/{baseline} = {means['ours'][0] / means[baseline][0]:.2f}; "
            f"paired ours − {baseline} = {diff:+.2%} ± {error:.2%} "
            f"(95 % interval {diff - 1.96 * error:+.2%} to {diff + 1.96 * error:+.2%}); "
            f"ours lower on {wins} of {len(results)} seeds"
        )
    flags = sum(r["flags"] for r in results)
    hits = sum(r["hits"] for r in results)
    positives = sum(r["positives"] for r in results)
    caught = sum(r["caught"] for r in results)
    measurable = sum(r["measurable"] for r in results)
    measurable_caught = sum(r["measurable_caught"] for r in results)
    print(
        f"fatigue: {flags} flagged, {hits} truly decayed when flagged; "
        f"recall {caught}/{positives} = {caught / positives if positives else math.nan:.2f}; "
        f"false-alarm rate {(flags - hits) / flags if flags else 0.0:.2f}"
    )
    print(
        f"  decays with a measurable week (>= the rule's impressions): "
        f"{measurable_caught}/{measurable} = "
        f"{measurable_caught / measurable if measurable else math.nan:.2f} caught"
    )
    seconds = sum(r["seconds"] for r in results)
    print(f"{seconds:.0f} s of simulation ({seconds / len(results):.0f} s per seed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=60)
    parser.add_argument("--masters", type=int, default=3)
    parser.add_argument(
        "--seeds",
        default="1,2,3,4,5,6,7,8",
        help="comma-separated market seeds (default: 1-8)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cycles < 20:
        parser.error("use 20 or more cycles")
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error("--seeds takes comma-separated integers")
    if not seeds:
        parser.error("give at least one seed")

    if args.one:
        print(
            json.dumps(run_one(cycles=args.cycles, masters=args.masters, seed=seeds[0]))
        )
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        results = list(
            pool.map(lambda s: _run_child(args.cycles, args.masters, s), seeds)
        )
    _report(results, args)


if __name__ == "__main__":
    main()
