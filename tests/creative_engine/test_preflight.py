"""Live preflight: a refused token, account or Page stops the cycle before any render,
with one message and an alert; a master whose ad set is refused is held."""

import pytest
from django.core.management import call_command

from creative_engine.models import RunStatus
from creative_engine.services.cycle import cycle_execute, cycle_request
from productions.models import CreativeProduction
from promotion.models import PromotionLog
from tests.factories import master_with_approved_cuts
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db


def run_cycle():
    return cycle_execute(run_id=cycle_request().pk)


def live_master(**kwargs):
    return master_with_approved_cuts(campaign_id="", adset_id="", **kwargs)


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda fake, s: setattr(s, "META_ACCESS_TOKEN", "WRONG"), "META_ACCESS_TOKEN"),
        (lambda fake, s: fake.state.account.update(account_status=2), "DISABLED"),
        (
            lambda fake, s: fake.state.account.update(
                spend_cap="10000", amount_spent="10000"
            ),
            "spend cap",
        ),
        (lambda fake, s: setattr(s, "META_ACCOUNT_CURRENCY", "EUR"), "bills in USD"),
        (lambda fake, s: fake.state.pages.clear(), "Page"),
    ],
)
def test_a_refused_account_stops_the_cycle_before_any_render(
    live_graph, settings, break_it, message
):
    # Given a master ready to generate, and one thing wrong with the account
    live_master()
    break_it(live_graph, settings)

    # When the cycle runs
    run = run_cycle()

    # Then it stopped at the preflight: one clear message and an alert, nothing made
    assert run.status == RunStatus.FAILED
    assert [e["step"] for e in run.errors] == ["preflight"]
    assert message in run.errors[0]["error"]
    assert run.alerts == [
        {"step": "preflight", "master_id": None, "message": run.errors[0]["error"]}
    ]
    assert set(run.timings) == {"preflight"}
    assert not CreativeVariant.objects.exists()
    assert not live_graph.requests_to("POST", r".*")


def test_a_master_whose_ad_set_is_refused_is_held_while_the_others_go_on(
    live_graph, settings
):
    # Given one master in a deleted ad set and one in the default
    deleted = live_graph.state.add_adset(status="DELETED")
    held = master_with_approved_cuts(campaign_id="", adset_id=deleted)
    fine = live_master()

    # When the cycle runs (dry run: the planning is what matters here)
    run = cycle_execute(run_id=cycle_request(dry_run=True).pk)

    # Then the held master got no batch, with its alert; the other was planned
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert [a["master_id"] for a in run.alerts] == [str(held.pk)]
    assert "DELETED" in run.alerts[0]["message"]
    planned = {d["master_id"] for d in run.decisions if d["step"] == "generate"}
    assert planned == {str(fine.pk)}
    # And every preflight read is on record
    assert PromotionLog.objects.filter(operation="check_adset").count() == 2


def test_a_held_master_stays_held_every_cycle_until_its_ad_set_is_fixed(live_graph):
    # Given a master whose ad set does not exist on the account
    master = master_with_approved_cuts(campaign_id="", adset_id="999999")

    # When two cycles run
    first, second = run_cycle(), run_cycle()

    # Then neither rendered or uploaded anything for it
    assert all(a["master_id"] == str(master.pk) for a in first.alerts + second.alerts)
    assert not CreativeVariant.objects.filter(parent=master).exists()
    assert not live_graph.requests_to("POST", r".*")

    # When a person points it at a live ad set, the next cycle works for it
    CreativeProduction.objects.filter(pk=master.pk).update(
        adset_id=live_graph.state.add_adset()
    )
    third = cycle_execute(run_id=cycle_request(dry_run=True).pk)
    assert third.alerts == []


def test_load_demo_in_live_mode_binds_no_ad_set_of_its_own(live_graph, capsys):
    call_command("load_demo", "--width", "64", "--height", "64")

    master = CreativeProduction.objects.get()
    assert master.adset_id == "" and master.campaign_id == ""
