"""The five steps of a cycle. Each is idempotent and reads its work from the database,
so a step that died half-way is finished by the next cycle; each records its decisions
with their reasons and numbers on the run."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from creative_engine.services.cycle_context import CycleContext
from productions.models import CreativeProduction
from promotion.capacity import new_variant_capacity
from promotion.selectors import (
    WorkItem,
    WorkKind,
    masters_daily_impressions,
    pool_waiting_for_evidence,
    running_ads_count,
    variants_needing_work,
)
from promotion.services.analyzer import fragments_update_performance
from promotion.services.fatigue import fatigue_review
from promotion.services.generation_inputs import performance_hints_by_master
from promotion.services.insights import insights_collect
from promotion.services.preflight import account_preflight
from promotion.services.promote import master_promote_top
from promotion.tasks import queued_dispatch_tokens, work_dispatch
from variants.choices import LIVE_STATUSES
from variants.models import CreativeVariant
from variants.services.generation import GenerationError, variants_generate

logger = logging.getLogger(__name__)

# The testing pool a master keeps: variants that still wait for evidence (on their
# way to a test, or testing below the ranking's gates). Paused, judged and retired
# variants no longer wait, so they never hold a refill back; below this a batch is
# generated on every cycle.
MIN_IN_FLIGHT = 5
# A master's first batch, before any delivery says what it can judge: three per
# narrative structure, so the test budget reaches the evidence gates within days.
FIRST_BATCH = 9


def _masters(ctx: CycleContext) -> list[CreativeProduction]:
    query = CreativeProduction.objects.filter(is_active=True)
    if ctx.options.master_creative_ids:
        query = query.filter(pk__in=list(ctx.options.master_creative_ids))
    return list(query.order_by("created_at"))


def preflight(ctx: CycleContext) -> None:
    """(0) Live mode: token, ad account, Page and ad sets, before anything renders.

    A refused account stops the cycle with one message and an alert; a master whose
    ad set is refused is held (no batch, no render, no upload) while the rest go on.
    """
    result = account_preflight(master_ids=[m.pk for m in _masters(ctx)])
    if not result.checked:
        return
    if result.stop:
        ctx.stopped = result.stop
        ctx.alert(step="preflight", message=result.stop)
        ctx.fail_step(step="preflight", error=result.stop)
        return
    for master_id, reason in result.held.items():
        ctx.held_master_ids.append(master_id)
        message = f"Master {master_id} is held: {reason}"
        ctx.alert(step="preflight", master_id=master_id, message=message)
        ctx.refuse(step="preflight", master_id=master_id, error=message)
        ctx.decide(
            step="preflight", action="hold_master", master_id=master_id, reason=reason
        )
    ctx.count("masters_held", len(result.held))


def collect_insights(ctx: CycleContext) -> None:
    """(1) Daily insights for every ad into the metrics table, then fragment scores."""
    if ctx.dry_run:
        ctx.decide(
            step="collect_insights",
            action="skip",
            reason="dry run: decisions use the metrics already stored",
        )
        return
    rows = insights_collect(until=ctx.as_of.date(), run_id=ctx.run_id, as_of=ctx.as_of)
    ctx.count("insight_rows", rows)
    ctx.count("fragments_scored", fragments_update_performance())


def handle_fatigue(ctx: CycleContext) -> None:
    """(2) Fatigued variants: archive on Meta, archive here, write a refresh."""
    outcomes = fatigue_review(
        as_of=ctx.as_of,
        master_ids=[m.pk for m in _masters(ctx)]
        if ctx.options.master_creative_ids
        else (),
        run_id=ctx.run_id,
        dry_run=ctx.dry_run,
    )
    for outcome in outcomes:
        numbers = outcome.assessment.details()
        ctx.decide(
            step="fatigue",
            action="archive_fatigued",
            variant_id=outcome.variant_id,
            master_id=outcome.master_id,
            reason=outcome.assessment.reason,
            numbers=numbers,
        )
        ctx.count("fatigued")
        if outcome.refresh_variant_id:
            suggestion = outcome.suggestion.details() if outcome.suggestion else {}
            ctx.count("refreshes")
            ctx.decide(
                step="fatigue",
                action="refresh",
                variant_id=outcome.refresh_variant_id,
                master_id=outcome.master_id,
                reason=suggestion.get("text", "weakest fragment replaced"),
                numbers={"refreshed_from": outcome.variant_id, **suggestion},
            )
        elif outcome.refresh_error:
            ctx.decide(
                step="fatigue",
                action="no_refresh",
                variant_id=outcome.variant_id,
                master_id=outcome.master_id,
                reason=outcome.refresh_error,
            )


def generate_variants(ctx: CycleContext) -> None:
    """(3) Refill each active master's testing pool: a new batch whenever fewer than
    `MIN_IN_FLIGHT` variants still wait for evidence, no larger than its recent
    delivery can judge (`promotion.capacity`). A master that cannot be refilled
    (no approved material left, every combination used, the Page cap) raises an
    alert with the reason."""
    if not ctx.options.generate_variants:
        return
    room = settings.META_MAX_RUNNING_ADS_PER_PAGE - running_ads_count()
    masters = _masters(ctx)
    waiting = pool_waiting_for_evidence(master_ids=[m.pk for m in masters])
    live = dict(
        CreativeVariant.objects.filter(parent__in=masters, status__in=LIVE_STATUSES)
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    delivery = masters_daily_impressions(
        master_ids=[m.pk for m in masters], as_of=ctx.as_of.date()
    )
    # Read once for the step: the batches written below have no delivery yet, so
    # they cannot change what a later master's scope measured.
    hints = (
        {}
        if ctx.dry_run
        else performance_hints_by_master(master_ids=[m.pk for m in masters])
    )
    for master in masters:
        if str(master.pk) in ctx.held_master_ids:
            continue  # the preflight held it: its ad set was refused
        pending = waiting.get(master.pk, 0)
        if pending >= MIN_IN_FLIGHT:
            ctx.decide(
                step="generate",
                action="skip_master",
                master_id=master.pk,
                reason=(
                    f"testing pool full: {pending} variants still wait for evidence "
                    f"(≥ {MIN_IN_FLIGHT})"
                ),
                numbers={"waiting_for_evidence": pending},
            )
            continue
        most = min(settings.VARIANTS_PER_MASTER_MAX, 15)
        if room < 5:
            reason = (
                f"only {max(room, 0)} ads of room under the Page cap of "
                f"{settings.META_MAX_RUNNING_ADS_PER_PAGE}"
            )
            ctx.decide(
                step="generate",
                action="skip_master",
                master_id=master.pk,
                reason=reason,
            )
            _pool_alert(ctx, master, pending, f"cannot refill: {reason}", "page_cap")
            continue
        # The planner decides how many (up to `most`) unless the Page cap or what the
        # master's delivery can judge says fewer; a batch has at least 5.
        daily_impressions = delivery.get(master.pk)
        capacity = new_variant_capacity(
            daily_impressions=daily_impressions, live_variants=live.get(master.pk, 0)
        )
        count = max(5, min(most, room, most if capacity is None else capacity))
        if daily_impressions is None:
            count = min(count, FIRST_BATCH)
        sizing = {
            "waiting_for_evidence": pending,
            "daily_impressions": daily_impressions,
            "live_variants": live.get(master.pk, 0),
            "judging_capacity": capacity,
            "batch_size_cap": count,
        }
        if ctx.dry_run:
            ctx.decide(
                step="generate",
                action="generate",
                master_id=master.pk,
                reason=(
                    f"{pending} waiting for evidence; would plan up to {count} variants"
                ),
                numbers=sizing,
            )
            continue
        try:
            variants = variants_generate(
                master_id=master.pk,
                hints=hints.get(master.pk),
                count=count if count < most else None,
            )
        except (GenerationError, ValueError) as exc:
            ctx.refuse(step="generate", master_id=master.pk, error=str(exc))
            ctx.decide(
                step="generate", action="refuse", master_id=master.pk, reason=str(exc)
            )
            _pool_alert(ctx, master, pending, f"cannot refill: {exc}", "no_material")
            continue
        room -= len(variants)
        ctx.count("variants_generated", len(variants))
        ctx.decide(
            step="generate",
            action="generate",
            master_id=master.pk,
            reason=(
                f"{pending} waiting for evidence (< {MIN_IN_FLIGHT}): batch "
                f"{variants[0].batch_number} of {len(variants)} variants"
            ),
            numbers={
                "batch_diversity": variants[0].plan_details.get("batch_diversity"),
                "variant_ids": [str(v.pk) for v in variants],
                **sizing,
            },
        )


def _pool_alert(
    ctx: CycleContext,
    master: CreativeProduction,
    pending: int,
    reason: str,
    kind: str,
) -> None:
    ctx.alert(
        kind=f"pipeline_stalled_{kind}",
        master_id=master.pk,
        message=(
            f"{master.title}: the testing pool {reason} "
            f"({pending} variants left waiting for evidence)."
        ),
    )
    ctx.count("alerts")


def render_and_upload(ctx: CycleContext) -> None:
    """(4) Send the render or upload of every variant of the masters in scope that
    has work to do and no message in flight for it.

    With a broker these are queued (render → upload chained); in-process they run
    now. Work left by an earlier, interrupted cycle is picked up; work whose message
    is still queued, or whose worker is alive, is left alone, so the queue never
    holds two messages for one variant (`promotion.selectors.variants_needing_work`).
    Masters held by the preflight (their ad set refused) get nothing.
    """
    held = set(ctx.held_master_ids)
    master_ids = [m.pk for m in _masters(ctx) if str(m.pk) not in held]
    work = variants_needing_work(
        master_ids=master_ids,
        queued_tokens=queued_dispatch_tokens(),
        now=timezone.now(),
        dispatch_stale_after=dt.timedelta(seconds=settings.DISPATCH_STALE_SECONDS),
    )
    upload_too = ctx.options.auto_upload
    for item in work:
        render = item.kind in (WorkKind.RENDER, WorkKind.RESUME_RENDER)
        if not (render or upload_too):
            continue
        # A dry run lists every dispatch; a real one records only the unusual resumes.
        if ctx.dry_run or item.kind in (WorkKind.RESUME_RENDER, WorkKind.RESUME_UPLOAD):
            ctx.decide(
                step="render_and_upload",
                action=str(item.kind),
                variant_id=item.variant_id,
                reason=item.reason,
            )
        if not ctx.dry_run:
            _dispatch(ctx, item, "render" if render else "upload")
    statuses = dict(
        CreativeVariant.objects.filter(pk__in=[item.variant_id for item in work])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    for status, n in statuses.items():
        ctx.count(f"variants_now_{status}", n)


def _dispatch(ctx: CycleContext, item: WorkItem, what: str) -> None:
    try:
        sent = work_dispatch(
            item,
            run_id=ctx.run_id,
            as_of=ctx.as_of.isoformat(),
            auto_upload=ctx.options.auto_upload,
        )
    except Exception as exc:  # in-process: one variant's failure is not the cycle's
        logger.warning("%s of variant %s failed: %s", what, item.variant_id, exc)
        ctx.refuse(step="render_and_upload", variant_id=item.variant_id, error=str(exc))
        return
    if sent:
        ctx.count(f"{what}s_dispatched")


def promote_top_variants(ctx: CycleContext) -> None:
    """(5) Rank each master's live variants; top 3 ACTIVE, losers paused, budget."""
    if not ctx.options.promote_top_3:
        return
    for master in _masters(ctx):
        outcome = master_promote_top(
            master_id=master.pk, as_of=ctx.as_of, run_id=ctx.run_id, dry_run=ctx.dry_run
        )
        for decision in outcome.decisions:
            if decision.action in {"keep_testing", "keep_active", "hold_cooldown"} and (
                not decision.numbers.get("eligible")
            ):
                ctx.count(f"judged_{decision.action}")
                continue
            ctx.decide(
                step="promote",
                action=decision.action,
                variant_id=decision.variant_id,
                master_id=decision.master_id,
                reason=decision.reason,
                numbers=decision.numbers,
            )
            ctx.count(f"judged_{decision.action}")
        for campaign, report in outcome.structures.items():
            ctx.decide(
                step="promote",
                action="best_structure",
                master_id=master.pk,
                reason=f"campaign {campaign or '—'}: best structure {report.best}",
                numbers={
                    "campaign_id": campaign,
                    "best": report.best,
                    "confident": report.confident,
                },
            )
        ctx.count("winners", len(outcome.winners))
