"""`Routes`: every resource's handlers, and the node reads, updates and deletes
that dispatch on what kind of object the node is."""

from __future__ import annotations

from tests.fakes.graph_server.ads import AdRoutes
from tests.fakes.graph_server.adsets import AdSetRoutes
from tests.fakes.graph_server.creatives import CreativeRoutes
from tests.fakes.graph_server.errors import GraphError
from tests.fakes.graph_server.images import ImageRoutes
from tests.fakes.graph_server.insights import InsightRoutes
from tests.fakes.graph_server.videos import VideoRoutes


class Routes(
    VideoRoutes, ImageRoutes, CreativeRoutes, AdRoutes, AdSetRoutes, InsightRoutes
):
    """The handlers of one request; `dispatch` picks one by method and path."""

    def get_node(self, node: str) -> tuple[int, dict]:
        if node == "me":
            return 200, {"id": "4004", "name": "Creative Engine system user"}
        kind, obj = self._find_node(node)
        if kind == "videos":
            return 200, self._project(self._video_view(obj), ("id", "title"))
        if kind == "adsets":
            return 200, self._project(self._adset_view(obj), ("id",))
        return 200, self._project(obj, ("id",))

    def get_account_(self) -> tuple[int, dict]:
        """The ad account node (the preflight's read)."""
        account = {
            "id": self.state.account_id,
            "account_id": self.state.account_id.removeprefix("act_"),
            **self.state.account,
        }
        return 200, self._project(account, ("id", "account_id"))

    def post_node(self, node: str) -> tuple[int, dict]:
        kind, obj = self._find_node(node)
        if kind == "ads":
            return self._update_ad(obj)
        if kind == "adsets":
            return self._update_adset(obj)
        if kind == "creatives" and "name" in self.params:
            obj["name"] = self.params["name"]
            return 200, {"success": True}
        raise GraphError("(#100) No fields to update", code=100)

    def delete_node(self, node: str) -> tuple[int, dict]:
        kind, obj = self._find_node(node)
        if kind != "ads":
            raise GraphError("(#100) The fake deletes ads only", code=100)
        obj.update(
            status="DELETED", configured_status="DELETED", effective_status="DELETED"
        )
        return 200, {"success": True}
