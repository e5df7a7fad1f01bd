"""How good are the engine's decisions? What the spend bought, regret, winners live,
fatigue detection — ours against greedy-by-CTR, random and the oracle.

Runs the real cycle services (insights, fatigue, generation, upload, promotion) on the
stub market for many simulated 12-hour cycles over several masters, in a throw-away
SQLite database, once per policy, delivery mode ("auction", Meta-like, and "even")
and seed. Rendering is replaced by a stand-in (a tiny file per variant): the market
judges what a viewer sees from the variant's plan, not from pixels, and renders are
benchmarked by bench/render.py. Each master tests in its own testing ad set and
graduates winners into its own scaling ad set.

The policies differ only in who is promoted (every other step is the engine's):
- ours: `master_promote_top` (objective, gates, posterior, Thompson, cooldown);
- greedy: the 3 best by observed CTR among variants with 1,000+ impressions on 2+
  days; the others past that bar are paused;
- random: 3 drawn at random from that set; the others paused;
- oracle: the 3 best by the simulator's true current revenue per unit of spend
  (fatigue, frequency and the auction's premium on worn ads included) among every
  live variant, fresh ones too; the others past the bar paused.
Every policy's winners' ad set follows the same budget engine (`adset_budget_step`).

Figures:
- objective share: true revenue bought per unit of spend over the whole run (the
  simulator's expected revenue for each ad's actual spend, drawn by the market's own
  model: CPM with its weekday and fatigue premium, fatigue, seasonality; testing and
  scaling alike), as a share of the oracle's on the same seed;
- regret (ours run): mean true rate of the oracle's top 3 among the live pool minus
  the mean true rate of each pick, as a share of the oracle's; the greedy pick there
  may take a variant on a few hundred impressions, the engine may not, so the same
  regret is printed for the greedy pick held to the engine's gates, for the
  posterior's top 3 freed of them (what the gates cost, apart from the ordering),
  for the posterior's top 3 past them without the engine's hold on its winners,
  and for the oracle held to them: the truly best 3 past the gates, the least regret
  any picker that respects them could have on the pool; each in two units, the
  true conversions per impression, and the master's own objective (true revenue
  per spend for ROAS), what the ranking judges by, as the regret was in the
  ranking's metric when that was CTR;
- winners live: the share of (cycle, master) pairs after the first 4 days with 3
  variants ACTIVE, and among pairs where 3+ variants had passed the gates;
- fatigue (ours run): every archive as fatigued is checked against the truth (true
  multiplier ≤ 0.8 = hit, else false alarm); recall among decays a detector could see
  (a true 20 % drop while live, with a week of the rule's impressions), and the
  median days from the true 20 % drop to the archive.
Paired differences per seed come with 95 % intervals (mean ± 1.96 standard errors).

    .venv/bin/python bench/decisions.py [--cycles 56] [--masters 3] [--seeds 1-8]
        [--modes auction,even] [--jobs N]
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


def _setup_django(workdir: Path, seed: int, delivery: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["CREATIVE_ENGINE_MODE"] = "stub"
    os.environ["META_STUB_SEED"] = str(seed)
    os.environ["META_STUB_UPLOAD_FAILURE_RATE"] = "0.1"
    os.environ["META_STUB_DELIVERY"] = delivery
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
            scaling_adset_id=f"12023000000{index:04d}",
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


POLICIES = ("ours", "greedy", "random", "oracle")
MODES = ("auction", "even")
_BAR_IMPRESSIONS = 1000
_BAR_DAYS = 2
WARM_UP_CYCLES = 8  # the first 4 days: nobody can pass the gates yet
REGRET_PICKS = (
    "ours",
    "greedy",
    "random",
    "greedy_gated",
    "posterior_ungated",
    "posterior_gated",
    "oracle_gated",
)
# Each regret is measured in two units, by the suffix of its keys: conversions per
# impression, and the master's own objective, what the ranking judges by (as the
# regret was in the ranking's metric when that was CTR).
REGRET_UNITS = {
    "": "conversions per impression",
    "_objective": "the master's objective (true ROAS bought per spend)",
}


def _variant_multiplier(market: Any, variant: Any, day: dt.date) -> float:
    """What is left of the variant's fresh rates: its most worn ad (a graduated
    winner's scaling ad carries its test ad's exposure)."""
    ads = [a for a in (variant.meta_ad_id, variant.scaling_ad_id) if a]
    return min(market.true_multiplier(a, day) for a in ads)


def _true_rate(market: Any, variant: Any, day: dt.date, metric: str) -> float:
    truth = market.truth(variant.meta_ad_id)
    rate = truth.ctr if metric == "ctr" else truth.ctr * truth.cvr
    return rate * _variant_multiplier(market, variant, day)


def _true_objective_rate(
    market: Any, variant: Any, day: dt.date, objective: Any
) -> float:
    """The variant's true rate now in the master's objective: revenue per spend for
    ROAS, conversions per spend for CPA, clicks per impression for CTR."""
    from productions.choices import Objective

    if objective == Objective.CTR:
        return _true_rate(market, variant, day, "ctr")
    roas = _true_roas(market, variant, day)
    if objective == Objective.CPA:
        return roas / market.truth(variant.meta_ad_id).order_value
    return roas


def _true_roas(market: Any, variant: Any, day: dt.date) -> float:
    """What a unit of spend on the variant earns now (its most worn ad)."""
    ads = [a for a in (variant.meta_ad_id, variant.scaling_ad_id) if a]
    return min(market.expected_roas(a, day) for a in ads)


def _baseline_promote(policy: str, seed: int) -> Any:
    """A promotion step that picks winners by `policy` and carries them out with
    the engine's own machinery (graduation, pausing), so only the choice differs."""

    def step(ctx: Any) -> None:
        from productions.models import CreativeProduction
        from promotion.meta.stub import load_stub_market
        from promotion.ranking import Action
        from promotion.selectors import live_variants_with_metrics, master_objective
        from promotion.services.budget import adset_budget_step
        from promotion.services.meta_calls import meta_client
        from promotion.services.placement import adset_for_scaling, adset_for_testing
        from promotion.services.promote import (
            VerdictExecution,
            variant_action_carry_out,
        )
        from promotion.services.ranking_inputs import budget_policy_from_settings

        market = load_stub_market(seed=seed)
        client = meta_client(as_of=ctx.as_of)
        rng = random.Random(f"{seed}-{policy}-{ctx.as_of.isoformat()}")
        today = ctx.as_of.date()
        for master in CreativeProduction.objects.filter(is_active=True):
            variants = live_variants_with_metrics(master_id=master.pk)
            past_bar, ctr = [], {}
            for v in variants:
                days = [d for d in v.daily_metrics.all() if d.date < today]
                shown = sum(d.impressions for d in days)
                if shown >= _BAR_IMPRESSIONS and len(days) >= _BAR_DAYS:
                    past_bar.append(v)
                    ctr[v.pk] = sum(d.clicks for d in days) / shown
            if policy == "greedy":
                winners = sorted(past_bar, key=lambda v: (-ctr[v.pk], str(v.pk)))[:3]
            elif policy == "random":
                winners = rng.sample(past_bar, min(3, len(past_bar)))
            else:  # the oracle sees the truth of every live variant
                winners = sorted(
                    variants, key=lambda v: (-_true_roas(market, v, today), str(v.pk))
                )[:3]
            winner_ids = {v.pk for v in winners}
            scaling = adset_for_scaling(master)
            for v in variants:
                if v.pk in winner_ids:
                    action = (
                        Action.KEEP_ACTIVE if v.status == "active" else Action.PROMOTE
                    )
                elif v in past_bar:
                    action = Action.PAUSE
                else:
                    action = (
                        Action.DEMOTE if v.status == "active" else Action.KEEP_TESTING
                    )
                variant_action_carry_out(
                    v,
                    action,
                    {"reason": f"{policy} baseline"},
                    on=VerdictExecution(
                        client, ctx.as_of, ctx.run_id, scaling_adset_id=scaling
                    ),
                )
            # Every engine shares the budget engine: only the choice differs.
            adset_budget_step(
                master=master,
                variants=live_variants_with_metrics(master_id=master.pk),
                winners=[str(v.pk) for v in winners],
                as_of=ctx.as_of,
                run_id=ctx.run_id,
                client=client,
                policy=budget_policy_from_settings(),
                objective=master_objective(master_id=master.pk),
                adset_id=scaling or adset_for_testing(master),
            )

    return step


def _measure(
    masters: list[Any], as_of: dt.datetime, seed: int, market: Any
) -> list[dict]:
    """Regret of each pick at this moment, and whether 3 winners are live."""
    from promotion.ranking import RankingPolicy, rank_master
    from promotion.selectors import live_variants_with_metrics, master_objective
    from promotion.services.ranking_inputs import candidates_for

    rows = []
    today = as_of.date()
    for master in masters:
        variants = live_variants_with_metrics(master_id=master.pk)
        active = [str(v.pk) for v in variants if v.status == "active"]
        if len(variants) < 4:
            rows.append({"n_active": len(active), "eligible": 0})
            continue
        objective = master_objective(master_id=master.pk)
        result = rank_master(
            candidates_for(variants, as_of=as_of),
            policy=RankingPolicy(),
            seed=0,
            as_of=today,
            objective=objective,
        )
        by_mean = [
            j.variant_id
            for j in sorted(
                result.judgements, key=lambda j: (-j.posterior_mean, j.variant_id)
            )
        ]
        ours = (active + [r for r in by_mean if r not in active])[:3]
        observed = {}
        for v in variants:
            days = list(v.daily_metrics.all())
            impressions = sum(d.impressions for d in days)
            observed[str(v.pk)] = (
                sum(d.clicks for d in days) / impressions if impressions else -1.0
            )
        greedy = sorted(observed, key=lambda k: (-observed[k], k))[:3]
        # The same two pickers held to the engine's evidence gates, or freed of
        # them: what the gates cost, apart from how each orders the variants.
        past_gates = {j.variant_id for j in result.judgements if j.eligible}
        greedy_gated = sorted(
            observed, key=lambda k: (k not in past_gates, -observed[k], k)
        )[:3]
        # The posterior's own order among the variants past the gates, without the
        # engine's hold on its winners (cooldown, margin) or the wait for fatigue.
        posterior_gated = sorted(by_mean, key=lambda k: k not in past_gates)[:3]
        picks = {
            "ours": ours,
            "greedy": greedy,
            "greedy_gated": greedy_gated,
            "posterior_ungated": by_mean[:3],
            "posterior_gated": posterior_gated,
        }
        row: dict[str, Any] = {
            "greedy_below_gates": sum(v not in past_gates for v in greedy) / 3,
            "n_active": len(active),
            "eligible": len(past_gates),
        }
        truths = {
            "": {str(v.pk): _true_rate(market, v, today, "cvr") for v in variants},
            "_objective": {
                str(v.pk): _true_objective_rate(market, v, today, objective)
                for v in variants
            },
        }
        for suffix in REGRET_UNITS:
            true = truths[suffix]
            oracle_top = sorted(true, key=lambda k: (-true[k], k))[:3]
            best = statistics.fmean(true[v] for v in oracle_top)
            # The best any picker held to the gates could do on this pool: the
            # truly best past them (topped up with the truly best of the rest).
            oracle_gated = sorted(
                true, key=lambda k: (k not in past_gates, -true[k], k)
            )[:3]
            for name, pick in {**picks, "oracle_gated": oracle_gated}.items():
                row[name + suffix] = best - statistics.fmean(true[v] for v in pick)
            row["random" + suffix] = best - statistics.fmean(true.values())
            row["scale" + suffix] = best
            row["oracle_past_gates" + suffix] = (
                sum(v in past_gates for v in oracle_top) / 3
            )
        rows.append(row)
    return rows


def _objective_bought(market: Any, start: dt.date, end: dt.date) -> tuple[float, float]:
    """True revenue the spend bought (expected conversions × order value for each
    ad's actual daily spend) and the spend, over [start, end)."""
    from variants.models import CreativeVariant

    revenue = spend = 0.0
    for v in CreativeVariant.objects.exclude(meta_ad_id=""):
        for ad in (v.meta_ad_id, v.scaling_ad_id):
            if not ad:
                continue
            day = start
            while day < end:
                spent, earned = market.expected_day(ad, day)
                revenue += earned
                spend += spent
                day += dt.timedelta(days=1)
    return revenue, spend


DETECTION_GRACE = dt.timedelta(days=3)  # the delay the issue allows


def _fatigue_scores(
    flags: list[tuple[str, dt.datetime]],
    live_log: dict,
    seed: int,
    market: Any,
    end: dt.datetime,
) -> dict:
    from promotion.fatigue import FatiguePolicy
    from variants.models import CreativeVariant

    variants = {str(v.pk): v for v in CreativeVariant.objects.exclude(meta_ad_id="")}

    def decayed(variant_id: str, day: dt.date) -> bool:
        return _variant_multiplier(market, variants[variant_id], day) <= 0.8

    def first_drop(variant_id: str, until: dt.date) -> dt.date | None:
        v = variants[variant_id]
        day = (v.uploaded_at or v.generated_at).date()
        while day <= until:
            if decayed(variant_id, day):
                return day
            day += dt.timedelta(days=1)
        return None

    enough = FatiguePolicy().min_window_impressions
    hits = [(vid, at) for vid, at in flags if decayed(vid, at.date())]
    delays = []
    for vid, at in hits:
        dropped = first_drop(vid, at.date())
        if dropped is not None:
            delays.append((at.date() - dropped).days)
    first_measurable: dict[str, dt.datetime] = {}
    for vid, moments in live_log.items():
        for at, age, week in moments:
            if age >= 14 and week >= enough and decayed(vid, at.date()):
                first_measurable[vid] = at
                break
    measurable = set(first_measurable)
    flagged = {vid for vid, _ in flags}
    # Why a detectable decay was not archived as fatigued: the run ended within
    # DETECTION_GRACE of it (censored), the ranking stopped its spend first (paused
    # or demoted out of live within the grace), or it stayed live unflagged (missed).
    missed = {"censored": 0, "stopped_by_ranking": 0, "live_unflagged": 0}
    for vid in measurable - flagged:
        seen = first_measurable[vid]
        if seen + DETECTION_GRACE > end:
            missed["censored"] += 1
            continue
        still_live = [
            at
            for at, _age, _week in live_log[vid]
            if seen <= at <= seen + DETECTION_GRACE
        ]
        if (
            still_live
            and still_live[-1] + dt.timedelta(hours=12) <= seen + DETECTION_GRACE
        ):
            missed["stopped_by_ranking"] += 1
        else:
            missed["live_unflagged"] += 1
    false_alarms = [
        round(_variant_multiplier(market, variants[vid], at.date()), 3)
        for vid, at in flags
        if not decayed(vid, at.date())
    ]
    return {
        "flags": len(flags),
        "hits": len(hits),
        "measurable": len(measurable),
        "measurable_caught": len(measurable & flagged),
        "delays": delays,
        **{f"missed_{k}": v for k, v in missed.items()},
        "false_alarm_multipliers": false_alarms,
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


def run_one(
    *, cycles: int, masters: int, seed: int, policy: str, delivery: str
) -> dict[str, Any]:
    """One market, one seed, one policy: what it bought, regret, winners, fatigue."""
    with tempfile.TemporaryDirectory() as tmp:
        _setup_django(Path(tmp), seed, delivery)
        from creative_engine.services import steps
        from creative_engine.services.cycle import cycle_execute, cycle_request
        from promotion.meta.stub import load_stub_market
        from variants.models import CreativeVariant

        created = _make_masters(masters)
        start = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.UTC)
        promote = (
            steps.promote_top_variants
            if policy == "ours"
            else _baseline_promote(policy, seed)
        )
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
                    ("promote", promote),
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
            if cycle >= WARM_UP_CYCLES:
                market = load_stub_market(seed=seed)
                regret += _measure(created, as_of, seed, market)
        elapsed = time.monotonic() - began
        end = start + dt.timedelta(hours=12 * cycles)
        market = load_stub_market(seed=seed)
        revenue, spend = _objective_bought(market, start.date(), end.date())
        fatigue = _fatigue_scores(flags, live_log, seed, market, end)
        total_variants = CreativeVariant.objects.count()

    judged = [r for r in regret if "ours" in r]

    def mean(key: str) -> float:
        return statistics.fmean(r[key] for r in judged) if judged else float("nan")

    gated = [r for r in regret if r["eligible"] >= 3]
    regrets = {}
    for suffix in REGRET_UNITS:
        scale = mean("scale" + suffix)
        for k in REGRET_PICKS:
            regrets[f"regret_{k}{suffix}"] = mean(k + suffix) / scale
        regrets["oracle_past_gates" + suffix] = mean("oracle_past_gates" + suffix)
    return {
        "seed": seed,
        "policy": policy,
        "delivery": delivery,
        "variants": total_variants,
        "seconds": elapsed,
        "roas": revenue / spend if spend else float("nan"),
        "spend": spend,
        "judgements": len(judged),
        **regrets,
        "greedy_below_gates": mean("greedy_below_gates"),
        "three_live": statistics.fmean(r["n_active"] >= 3 for r in regret)
        if regret
        else float("nan"),
        "three_live_when_gated": statistics.fmean(r["n_active"] >= 3 for r in gated)
        if gated
        else float("nan"),
        **fatigue,
    }


def _interval(values: list[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:+.3f}"
    half = 1.96 * statistics.stdev(values) / math.sqrt(len(values))
    return f"{mean:+.3f} [{mean - half:+.3f}, {mean + half:+.3f}]"


def _run_child(
    cycles: int, masters: int, seed: int, policy: str, delivery: str
) -> dict[str, Any]:
    """Each run in its own process: Django is set up once per database."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            f"--cycles={cycles}",
            f"--masters={masters}",
            f"--seeds={seed}",
            f"--policies={policy}",
            f"--modes={delivery}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{policy}/{delivery}/{seed} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"cycles {args.cycles} (12 h) × masters {args.masters} × seeds "
        f"{len({r['seed'] for r in results})}; intervals are paired 95 % (± 1.96 SE)"
    )
    for delivery in args.modes:
        runs = {
            (r["policy"], r["seed"]): r for r in results if r["delivery"] == delivery
        }
        seeds = sorted({seed for _, seed in runs})
        policies = [p for p in POLICIES if all((p, s) in runs for s in seeds)]
        print(f"\n== delivery: {delivery}")
        print(
            f"{'seed':>5} "
            + " ".join(f"{p + ' ROAS':>12}" for p in policies)
            + f" {'ours/oracle':>11} {'3 live':>7} {'3|gated':>7}"
            f" {'regret':>7} {'r.greedy':>8} {'obj.regret':>10} {'o.greedy':>8}"
        )
        share = {p: [] for p in policies}
        for seed in seeds:
            oracle = runs.get(("oracle", seed))
            for p in policies:
                if oracle:
                    share[p].append(runs[(p, seed)]["roas"] / oracle["roas"])
            ours = runs[("ours", seed)]
            print(
                f"{seed:>5} "
                + " ".join(f"{runs[(p, seed)]['roas']:>12.3f}" for p in policies)
                + f" {share['ours'][-1] if oracle else math.nan:>11.3f}"
                f" {ours['three_live']:>7.2f} {ours['three_live_when_gated']:>7.2f}"
                f" {ours['regret_ours']:>7.1%} {ours['regret_greedy']:>8.1%}"
                f" {ours['regret_ours_objective']:>10.1%}"
                f" {ours['regret_greedy_objective']:>8.1%}"
            )
        for p in policies:
            if share[p]:
                print(f"objective (true ROAS bought) {p}/oracle: {_interval(share[p])}")
        for baseline in ("greedy", "random"):
            if baseline not in policies:
                continue
            diffs = [
                runs[("ours", s)]["roas"] / runs[(baseline, s)]["roas"] - 1.0
                for s in seeds
            ]
            wins = sum(d > 0 for d in diffs)
            print(
                f"ours vs {baseline} (relative objective − 1): {_interval(diffs)}; "
                f"ours higher on {wins} of {len(seeds)} seeds"
            )
        ours_runs = [runs[("ours", s)] for s in seeds]
        for suffix, unit in REGRET_UNITS.items():
            print(f"-- regret in {unit}")
            _print_regrets(ours_runs, suffix)
        for p in policies:
            live = [runs[(p, s)]["three_live"] for s in seeds]
            gated = [runs[(p, s)]["three_live_when_gated"] for s in seeds]
            print(
                f"3 winners live after day 4, {p}: {statistics.fmean(live):.1%} of "
                f"cycles; {statistics.fmean(gated):.1%} where 3 had passed the gates"
            )
        flags = sum(r["flags"] for r in ours_runs)
        hits = sum(r["hits"] for r in ours_runs)
        measurable = sum(r["measurable"] for r in ours_runs)
        caught = sum(r["measurable_caught"] for r in ours_runs)
        delays = [d for r in ours_runs for d in r["delays"]]
        print(
            f"fatigue (ours): {flags} archived as fatigued, {hits} truly down ≥ 20 %; "
            f"false-alarm rate {(flags - hits) / flags if flags else 0.0:.2f}; "
            f"recall among detectable decays {caught}/{measurable} = "
            f"{caught / measurable if measurable else math.nan:.2f}; median delay "
            f"{statistics.median(delays) if delays else math.nan} days "
            f"(from the true 20 % drop to the archive)"
        )
        missed = {
            k: sum(r.get(f"missed_{k}", 0) for r in ours_runs)
            for k in ("censored", "stopped_by_ranking", "live_unflagged")
        }
        alarms = sorted(
            m for r in ours_runs for m in r.get("false_alarm_multipliers", [])
        )
        stayed = caught + missed["live_unflagged"]
        print(
            f"fatigue recall among decays that stayed live {DETECTION_GRACE.days} days "
            f"(what a detector had to see them by): {caught}/{stayed} = "
            f"{caught / stayed if stayed else math.nan:.2f}"
        )
        print(
            f"fatigue missed (ours): {missed['censored']} within "
            f"{DETECTION_GRACE.days} days of the run's end, "
            f"{missed['stopped_by_ranking']} stopped by the ranking first, "
            f"{missed['live_unflagged']} live and unflagged; false alarms' true "
            f"multipliers {alarms}"
        )
    seconds = sum(r["seconds"] for r in results)
    print(f"\n{seconds:.0f} s of simulation ({seconds / len(results):.0f} s per run)")


def _print_regrets(ours_runs: list[dict], suffix: str) -> None:
    """Every pick's regret in one unit (`suffix` names it in the run's keys)."""

    def key(name: str) -> str:
        return f"regret_{name}{suffix}"

    for name, label in (
        ("ours", "regret ours"),
        ("greedy", "regret greedy-by-CTR pick"),
        ("random", "regret random pick"),
    ):
        print(
            f"{label} (share of oracle rate): "
            f"{_interval([r[key(name)] for r in ours_runs])}"
        )
    _print_paired_regret(ours_runs, "greedy", key("ours"), key("greedy"))
    # The greedy pick above may take a variant on a few hundred impressions; the
    # engine may not (its gates). Held to the same gates, or both freed of them:
    print(
        "oracle's top 3 past the engine's gates: "
        f"{_interval([r['oracle_past_gates' + suffix] for r in ours_runs])}; "
        "greedy pick's variants below them: "
        f"{_interval([r['greedy_below_gates'] for r in ours_runs])}"
    )
    for name, label in (
        ("greedy_gated", "greedy-by-CTR pick among variants past the gates"),
        ("posterior_ungated", "the posterior's top 3, no gates"),
        ("posterior_gated", "the posterior's top 3 past the gates, no hold on winners"),
        ("oracle_gated", "oracle held to the gates (any gated picker's floor)"),
    ):
        diffs = [r[key(name)] - r[key("greedy")] for r in ours_runs]
        print(
            f"regret {label}: {_interval([r[key(name)] for r in ours_runs])}; "
            f"− greedy pick {_interval(diffs)}"
        )
    _print_paired_regret(
        ours_runs, "greedy pick past the gates", key("ours"), key("greedy_gated")
    )
    ours = statistics.fmean(r[key("ours")] for r in ours_runs)
    greedy = statistics.fmean(r[key("greedy")] for r in ours_runs)
    floor = statistics.fmean(r[key("oracle_gated")] for r in ours_runs)
    print(
        f"regret ratio to the greedy pick (means over seeds): ours {ours / greedy:.2f}, "
        f"oracle held to the gates {floor / greedy:.2f}"
    )


def _print_paired_regret(
    ours_runs: list[dict], label: str, ours_key: str, key: str
) -> None:
    """Ours' regret minus another pick's, seed by seed, and how often ours is lower."""
    diffs = [r[ours_key] - r[key] for r in ours_runs]
    print(
        f"paired regret ours − {label}: {_interval(diffs)}; ours lower on "
        f"{sum(d < 0 for d in diffs)} of {len(diffs)} seeds"
    )


def _parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            low, high = part.split("-", 1)
            seeds += list(range(int(low), int(high) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=56)
    parser.add_argument("--masters", type=int, default=3)
    parser.add_argument("--seeds", default="1-8", help="e.g. 1-8 or 1,2,5")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cycles < 20:
        parser.error("use 20 or more cycles")
    try:
        seeds = _parse_seeds(args.seeds)
    except ValueError:
        parser.error("--seeds takes integers and ranges")
    policies = [p for p in args.policies.split(",") if p]
    args.modes = [m for m in args.modes.split(",") if m]
    if not seeds or set(policies) - set(POLICIES) or set(args.modes) - set(MODES):
        parser.error("give seeds, policies from ours,greedy,random,oracle and modes")

    if args.one:
        result = run_one(
            cycles=args.cycles,
            masters=args.masters,
            seed=seeds[0],
            policy=policies[0],
            delivery=args.modes[0],
        )
        print(json.dumps(result))
        return
    work = [(s, p, m) for m in args.modes for s in seeds for p in policies]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        results = list(
            pool.map(
                lambda w: _run_child(args.cycles, args.masters, w[0], w[1], w[2]), work
            )
        )
    _report(results, args)


if __name__ == "__main__":
    main()
