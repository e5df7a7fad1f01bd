"""Creatives: object_story_spec checks and the Advantage+ features Meta reports back."""

from __future__ import annotations

from tests.fakes.graph_server.errors import GraphError
from tests.fakes.graph_server.routing import RouteBase, creation_order, filter_rows

DEPRECATED_FEATURES = frozenset({"standard_enhancements"})


class CreativeRoutes(RouteBase):
    def post_account_adcreatives(self) -> tuple[int, dict]:
        spec = self.params.get("object_story_spec")
        if not isinstance(spec, dict):
            raise GraphError("(#100) object_story_spec must be a JSON object", code=100)
        if "instagram_actor_id" in spec:
            raise GraphError(
                "(#100) instagram_actor_id is deprecated; use instagram_user_id",
                code=100,
                subcode=2446149,
            )
        if not spec.get("page_id"):
            raise GraphError("(#100) object_story_spec requires page_id", code=100)
        video_data = spec.get("video_data")
        if isinstance(video_data, dict):
            video_id = str(video_data.get("video_id", ""))
            if video_id not in self.state.videos:
                raise GraphError(
                    f"(#100) video_id {video_id} is not a video of this account",
                    code=100,
                )
            if not (video_data.get("image_hash") or video_data.get("image_url")):
                raise GraphError(
                    "(#100) video_data requires a thumbnail: image_hash or image_url",
                    code=100,
                )
            image_hash = video_data.get("image_hash")
            if image_hash and image_hash not in self.state.images:
                raise GraphError(f"(#100) Invalid image hash {image_hash}", code=100)
        features = self._features()
        creative_id = self.state.new_id()
        self.state.creatives[creative_id] = {
            "id": creative_id,
            "name": self.params.get("name") or f"Creative {creative_id}",
            "status": "ACTIVE",
            "object_story_spec": spec,
            "degrees_of_freedom_spec": {"creative_features_spec": features},
            "video_id": (video_data or {}).get("video_id"),
            "url_tags": self.params.get("url_tags"),
            "created_time": self.state.clock(),
        }
        return 200, {"id": creative_id}

    def _features(self) -> dict[str, dict[str, str]]:
        dof = self.params.get("degrees_of_freedom_spec") or {}
        if not isinstance(dof, dict):
            raise GraphError(
                "(#100) degrees_of_freedom_spec must be a JSON object", code=100
            )
        features = dof.get("creative_features_spec") or {}
        for name, detail in features.items():
            if name in DEPRECATED_FEATURES:
                raise GraphError(
                    "The standard enhancements feature bundle is deprecated; set "
                    "individual creative features instead.",
                    code=100,
                    subcode=3858504,
                )
            status = (detail or {}).get("enroll_status")
            if status not in ("OPT_IN", "OPT_OUT"):
                raise GraphError(
                    f"(#100) enroll_status of {name} must be OPT_IN or OPT_OUT",
                    code=100,
                )
        reported = {
            k: {"enroll_status": v["enroll_status"]} for k, v in features.items()
        }
        for name, status in self.state.creative_feature_overrides.items():
            reported[name] = {"enroll_status": status}
        return reported

    def get_account_adcreatives(self) -> tuple[int, dict]:
        creatives = sorted(
            self.state.creatives.values(), key=creation_order, reverse=True
        )
        rows = [self._project(c, ("id",)) for c in creatives]
        return 200, self._page(
            filter_rows(creatives, rows, self.params.get("filtering"))
        )
