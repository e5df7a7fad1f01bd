"""Live-mode preflight: before a cycle renders anything, ask Meta whether it may work.

A bad token, a disabled ad account or a missing Page would otherwise be discovered
after minutes of rendering, at the first upload, and again every cycle. Each check is
one read (logged to PromotionLog like every call):

1. the token (`/me`): refused → stop;
2. the ad account: status ACTIVE, the currency expected (META_ACCOUNT_CURRENCY, when
   set), spend cap not reached → else stop;
3. the Page (META_PAGE_ID) → refused: stop;
4. each ad set the masters will use (theirs or META_DEFAULT_ADSET_ID): missing,
   deleted, archived or of another account → those masters are held (no new batch,
   no render, no upload) until a person fixes it; the others go on.

Stub mode needs none of it: no result, nothing held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.conf import settings

from productions.models import CreativeProduction
from promotion.meta.errors import MetaError
from promotion.meta.graph import GraphMetaClient
from promotion.services.meta_calls import meta_call_context, meta_client

# Meta's account_status codes (Marketing API, ad account reference).
ACCOUNT_STATUSES = {
    1: "ACTIVE",
    2: "DISABLED",
    3: "UNSETTLED",
    7: "PENDING_RISK_REVIEW",
    8: "PENDING_SETTLEMENT",
    9: "IN_GRACE_PERIOD",
    100: "PENDING_CLOSURE",
    101: "CLOSED",
    201: "ANY_ACTIVE",
    202: "ANY_CLOSED",
}
REFUSED_ADSET_STATUSES = frozenset({"DELETED", "ARCHIVED"})


@dataclass
class PreflightResult:
    """`stop`: why nothing may be rendered (one sentence), or "". `held`: master id →
    why its ad set was refused."""

    checked: bool = False
    stop: str = ""
    held: dict[str, str] = field(default_factory=dict)


def account_preflight(*, master_ids: Iterable[UUID | str]) -> PreflightResult:
    """Check token, ad account, Page and ad sets in live mode (see module doc)."""
    client = meta_client()
    if not isinstance(client, GraphMetaClient):
        return PreflightResult()
    result = PreflightResult(checked=True)
    with client, meta_call_context(decision={"preflight": True}):
        result.stop = _account_problem(client)
        if result.stop:
            return result
        result.held = _refused_adsets(client, master_ids=master_ids)
    return result


def _account_problem(client: GraphMetaClient) -> str:
    account_id = settings.META_AD_ACCOUNT_ID
    try:
        client.get_token_owner()
    except MetaError as exc:
        return (
            f"Meta refused META_ACCESS_TOKEN ({exc}); set a valid token. Nothing was "
            "rendered."
        )
    try:
        account = client.get_ad_account()
    except MetaError as exc:
        return f"Meta refused the ad account {account_id} ({exc}); nothing rendered."
    status = int(account.get("account_status") or 0)
    if status != 1:
        name = ACCOUNT_STATUSES.get(status, f"status {status}")
        return (
            f"The ad account {account_id} is {name} (account_status {status}); "
            "ads cannot run until it is ACTIVE. Nothing was rendered."
        )
    currency = str(account.get("currency") or "")
    expected = settings.META_ACCOUNT_CURRENCY
    if expected and currency != expected:
        return (
            f"The ad account {account_id} bills in {currency}, not "
            f"META_ACCOUNT_CURRENCY={expected}: budgets would be wrong. Nothing was "
            "rendered."
        )
    cap, spent = _money(account.get("spend_cap")), _money(account.get("amount_spent"))
    if cap > 0 and spent >= cap:
        return (
            f"The ad account {account_id} reached its spend cap ({spent} of {cap} "
            f"{currency} minor units); raise or reset it in Ads Manager. Nothing was "
            "rendered."
        )
    try:
        client.get_page(page_id=settings.META_PAGE_ID)
    except MetaError as exc:
        return (
            f"Meta refused the Page META_PAGE_ID={settings.META_PAGE_ID} ({exc}); "
            "nothing was rendered."
        )
    return ""


def _refused_adsets(
    client: GraphMetaClient, *, master_ids: Iterable[UUID | str]
) -> dict[str, str]:
    adset_of = {
        str(pk): adset or settings.META_DEFAULT_ADSET_ID
        for pk, adset in CreativeProduction.objects.filter(
            pk__in=list(master_ids)
        ).values_list("pk", "adset_id")
    }
    problems: dict[str, str] = {}
    for adset_id in sorted(set(adset_of.values()) - {""}):
        problems[adset_id] = _adset_problem(client, adset_id)
    held = {}
    for master_id, adset_id in adset_of.items():
        if not adset_id:
            held[master_id] = (
                "names no ad set and META_DEFAULT_ADSET_ID is unset: set one to "
                "upload its variants."
            )
        elif problems[adset_id]:
            held[master_id] = problems[adset_id]
    return held


def _adset_problem(client: GraphMetaClient, adset_id: str) -> str:
    try:
        adset = client.get_adset_for_preflight(adset_id=adset_id)
    except MetaError as exc:
        return f"Meta refused its ad set {adset_id} ({exc}); fix the ad set id."
    status = str(adset.get("effective_status") or adset.get("status") or "")
    if status in REFUSED_ADSET_STATUSES:
        return f"its ad set {adset_id} is {status}; choose a live ad set."
    account = str(adset.get("account_id") or "")
    if account and account != settings.META_AD_ACCOUNT_ID.removeprefix("act_"):
        return (
            f"its ad set {adset_id} belongs to ad account act_{account}, not "
            f"{settings.META_AD_ACCOUNT_ID}."
        )
    return ""


def _money(value: object) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal(0)
