"""choose_metric: conversions once a master has enough mature ones, else clicks."""

import datetime as dt

from promotion.daystats import DayStats
from promotion.evidence import MetricRule, choose_metric, usable_days

AS_OF = dt.date(2026, 4, 1)


def day(days_before: int, *, conversions: int) -> DayStats:
    return DayStats(
        date=AS_OF - dt.timedelta(days=days_before),
        impressions=5000,
        clicks=100,
        conversions=conversions,
        spend=50.0,
        revenue=0.0,
    )


def test_conversions_become_the_metric_at_the_threshold_of_mature_days():
    # Given two variants with 30 conversions between them, all on complete old days
    days = [[day(5, conversions=20)], [day(3, conversions=10)]]

    # Then conversions are the metric; one fewer and clicks are
    assert choose_metric(days, as_of=AS_OF, rule=MetricRule()) == "cvr"
    assert (
        choose_metric(days, as_of=AS_OF, rule=MetricRule(min_conversions=31)) == "ctr"
    )


def test_late_arriving_conversions_do_not_switch_the_metric():
    # Given 30 conversions, 25 of them on yesterday (still arriving)
    days = [[day(4, conversions=5), day(1, conversions=25)]]

    # Then only the 5 mature ones count: clicks stay the metric
    assert choose_metric(days, as_of=AS_OF, rule=MetricRule()) == "ctr"
    # and once the lag is waived, the same rows say conversions
    rule = MetricRule(conversion_lag_days=0)
    assert choose_metric(days, as_of=AS_OF, rule=rule) == "cvr"


def test_usable_days_drop_partial_immature_and_old_days():
    rows = [day(d, conversions=1) for d in (0, 1, 2, 56, 57)]
    rule = MetricRule(conversion_lag_days=1, lookback_days=56)

    ctr = usable_days(rows, "ctr", as_of=AS_OF, rule=rule)
    cvr = usable_days(rows, "cvr", as_of=AS_OF, rule=rule)

    assert [(AS_OF - d.date).days for d in ctr] == [1, 2, 56]
    assert [(AS_OF - d.date).days for d in cvr] == [2, 56]
