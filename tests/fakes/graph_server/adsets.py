"""Ad sets: their budget as Meta shows it, and at most 4 budget changes an hour."""

from __future__ import annotations

from typing import Any

from tests.fakes.graph_server.errors import GraphError, buc_usage_header
from tests.fakes.graph_server.routing import RouteBase

BUDGET_CHANGES_PER_HOUR = 4


class AdSetRoutes(RouteBase):
    def _adset_view(self, adset: dict[str, Any]) -> dict[str, Any]:
        """The ad set as Meta shows it: budgets as strings, no change log."""
        view = dict(adset)
        view["daily_budget"] = (
            str(adset["daily_budget"]) if adset["daily_budget"] is not None else None
        )
        view["budget_remaining"] = view["daily_budget"]
        view["effective_status"] = adset["status"]
        view.pop("budget_changes")
        return view

    def _update_adset(self, adset: dict[str, Any]) -> tuple[int, dict]:
        if "daily_budget" in self.params:
            try:
                budget = int(self.params["daily_budget"])
            except ValueError as exc:
                raise GraphError(
                    "(#100) daily_budget must be an integer", code=100
                ) from exc
            if adset["daily_budget"] is None:
                raise GraphError(
                    "You can only set an ad set budget or a campaign budget",
                    code=100,
                    subcode=1885621,
                )
            if budget < 100:
                raise GraphError("Your budget is too low", code=100, subcode=1885272)
            now = self.state.clock()
            recent = [t for t in adset["budget_changes"] if now - t < 3600]
            if len(recent) >= BUDGET_CHANGES_PER_HOUR:
                minutes = max(1, int((3600 - (now - min(recent))) // 60) + 1)
                raise GraphError(
                    "(#17) User request limit reached",
                    code=17,
                    subcode=2446079,
                    is_transient=True,
                    user_title="Ad Set Budget Change Limit Reached",
                    user_msg="An ad set's budget can change at most 4 times an hour.",
                    headers=buc_usage_header(self.state.account_id, minutes=minutes),
                )
            adset["budget_changes"] = [*recent, now]
            adset["daily_budget"] = budget
        if "status" in self.params:
            adset["status"] = self.params["status"]
        return 200, {"success": True}
