"""Ads: created with an explicit status, listed per account or ad set, updated."""

from __future__ import annotations

from typing import Any

from tests.fakes.graph_server.errors import GraphError
from tests.fakes.graph_server.routing import RouteBase, creation_order, filter_rows

AD_CREATE_STATUSES = ("ACTIVE", "PAUSED")
AD_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DELETED")


class AdRoutes(RouteBase):
    def post_account_ads(self) -> tuple[int, dict]:
        name = str(self._require("name"))
        adset_id = str(self._require("adset_id"))
        adset = self.state.adsets.get(adset_id)
        if adset is None:
            raise GraphError(
                f"(#100) Invalid adset_id {adset_id}", code=100, subcode=1487472
            )
        creative = self.params.get("creative")
        creative_id = (
            str(creative.get("creative_id", "")) if isinstance(creative, dict) else ""
        )
        if creative_id not in self.state.creatives:
            raise GraphError('(#100) creative must be {"creative_id": <id>}', code=100)
        status = self.params.get("status")
        if status is None:
            # Meta would default to ACTIVE and spend at once; we never want that.
            raise GraphError(
                "(#100) The parameter status is required (the fake refuses Meta's "
                "ACTIVE default)",
                code=100,
            )
        if status not in AD_CREATE_STATUSES:
            raise GraphError("(#100) status must be one of {ACTIVE, PAUSED}", code=100)
        tracking = self.params.get("tracking_specs")
        if tracking is not None and not isinstance(tracking, list):
            raise GraphError("(#100) tracking_specs must be a JSON array", code=100)
        ad_id = self.state.new_id()
        self.state.ads[ad_id] = {
            "id": ad_id,
            "name": name,
            "adset_id": adset_id,
            "campaign_id": adset["campaign_id"],
            "creative": {"id": creative_id},
            "status": status,
            "configured_status": status,
            "effective_status": status,
            "tracking_specs": tracking,
            "created_time": self.state.clock(),
        }
        return 200, {"id": ad_id}

    def _list_ads(self, ads: list[dict[str, Any]]) -> tuple[int, dict]:
        wanted = self.params.get("effective_status")
        if wanted:
            ads = [a for a in ads if a["effective_status"] in wanted]
        else:
            # Graph's ads edges leave archived and deleted ads out by default.
            ads = [
                a for a in ads if a["effective_status"] not in ("ARCHIVED", "DELETED")
            ]
        ads = sorted(ads, key=creation_order, reverse=True)
        rows = [self._project(a, ("id",)) for a in ads]
        return 200, self._page(filter_rows(ads, rows, self.params.get("filtering")))

    def get_account_ads(self) -> tuple[int, dict]:
        return self._list_ads(list(self.state.ads.values()))

    def get_node_ads(self, node: str) -> tuple[int, dict]:
        kind, _ = self._find_node(node)
        if kind != "adsets":
            raise GraphError("(#100) Tried accessing nonexisting field (ads)", code=100)
        return self._list_ads(
            [a for a in self.state.ads.values() if a["adset_id"] == node]
        )

    def _update_ad(self, ad: dict[str, Any]) -> tuple[int, dict]:
        if ad["effective_status"] == "ARCHIVED" and set(self.params) - {"name"}:
            raise GraphError(
                "(#100) Archived ads can only be renamed", code=100, subcode=1885088
            )
        status = self.params.get("status")
        if status is not None:
            if status not in AD_STATUSES:
                raise GraphError(
                    "(#100) status must be one of {ACTIVE, PAUSED, ARCHIVED, DELETED}",
                    code=100,
                )
            ad.update(status=status, configured_status=status, effective_status=status)
        if "name" in self.params:
            ad["name"] = self.params["name"]
        return 200, {"success": True}
