"""A promotion log row's title reads as words (the entry page and its breadcrumbs)."""

from promotion.choices import PromotionStatus, PromotionType
from promotion.models import PromotionLog


def test_a_log_rows_title_says_what_was_done_and_how_it_ended():
    done = PromotionLog(
        operation="promote_top",
        promotion_type=PromotionType.WINNER,
        promotion_status=PromotionStatus.SUCCEEDED,
        success=True,
    )
    refused = PromotionLog(
        operation="set_adset_budget",
        promotion_type=PromotionType.BUDGET,
        promotion_status=PromotionStatus.FAILED,
        success=False,
        error_code="17",
    )

    assert str(done) == "Promote top · succeeded"
    assert str(refused) == "Set adset budget · failed (error 17)"
