"""Insights: level=ad daily rows (time_increment=1) in a time range, paged."""

from __future__ import annotations

from typing import Any

from tests.fakes.graph_server.errors import GraphError
from tests.fakes.graph_server.routing import RouteBase, filter_rows


class InsightRoutes(RouteBase):
    def get_account_insights(self) -> tuple[int, dict]:
        level = self.params.get("level", "account")
        if level != "ad":
            raise GraphError("(#100) The fake serves level=ad insights only", code=100)
        return self._insights(self.state.insights)

    def get_node_insights(self, node: str) -> tuple[int, dict]:
        self._find_node(node)
        return self._insights([r for r in self.state.insights if r["ad_id"] == node])

    def _insights(self, rows: list[dict[str, Any]]) -> tuple[int, dict]:
        if str(self.params.get("time_increment", "1")) != "1":
            raise GraphError("(#100) The fake serves time_increment=1 only", code=100)
        time_range = self.params.get("time_range")
        if isinstance(time_range, dict):
            since = str(time_range.get("since", "0000"))
            until = str(time_range.get("until", "9999"))
            rows = [r for r in rows if since <= r["date_start"] <= until]
        elif time_range is not None:
            raise GraphError("(#100) time_range must be a JSON object", code=100)
        rows = filter_rows(rows, rows, self.params.get("filtering"))
        rows = sorted(rows, key=lambda r: (r["date_start"], r["ad_id"]))
        fields = self._fields() or ["impressions", "spend"]
        projected = []
        for row in rows:
            view = {k: row[k] for k in fields if k in row}
            view["date_start"] = row["date_start"]
            view["date_stop"] = row["date_stop"]
            projected.append(view)
        return 200, self._page(projected)
