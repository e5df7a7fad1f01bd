"""Videos: simple and chunked (resumable) upload, the library listing, processing
status and thumbnails."""

from __future__ import annotations

from typing import Any

from tests.fakes.graph_server.errors import GraphError
from tests.fakes.graph_server.routing import RouteBase, creation_order


class VideoRoutes(RouteBase):
    def post_account_advideos(self) -> tuple[int, dict]:
        phase = self.params.get("upload_phase")
        if phase:
            return getattr(self, f"_upload_{phase}", self._bad_phase)()
        upload = self.request.files.get("source")
        if upload is None:
            raise GraphError("(#100) source or file_url is required", code=100)
        filename, data = upload
        video = self._new_video(
            size=len(data),
            title=self.params.get("title") or self.params.get("name") or filename,
        )
        video["data"] = bytearray(data)
        video["uploading"] = "complete"
        return 200, {"id": video["id"]}

    def _bad_phase(self) -> tuple[int, dict]:
        raise GraphError(
            "(#100) upload_phase must be one of start, transfer, finish, cancel",
            code=100,
        )

    def _new_video(self, *, size: int, title: str = "") -> dict[str, Any]:
        video_id = self.state.new_id()
        video = {
            "id": video_id,
            "title": title,
            "size": size,
            "data": bytearray(),
            "uploading": "in_progress",
            "polls_left": self.state.video_processing_polls,
            "final_status": self.state.video_final_status,
            "created_time": self.state.clock(),
        }
        self.state.videos[video_id] = video
        return video

    def _upload_start(self) -> tuple[int, dict]:
        try:
            size = int(self._require("file_size"))
        except ValueError as exc:
            raise GraphError("(#100) file_size must be an integer", code=100) from exc
        video = self._new_video(size=size)
        session_id = self.state.new_id()
        self.state.upload_sessions[session_id] = {"video_id": video["id"], "size": size}
        end = min(size, self.state.chunk_size)
        return 200, {
            "upload_session_id": session_id,
            "video_id": video["id"],
            "start_offset": "0",
            "end_offset": str(end),
        }

    def _session(self) -> tuple[dict[str, Any], dict[str, Any]]:
        session_id = str(self._require("upload_session_id"))
        session = self.state.upload_sessions.get(session_id)
        if session is None:
            raise GraphError(
                "There was a problem uploading your video. Please try again.",
                code=6001,
                subcode=1363019,
                user_title="Error Uploading Video",
            )
        return session, self.state.videos[session["video_id"]]

    def _resume_error(self, video: dict[str, Any]) -> GraphError:
        expected = len(video["data"])
        return GraphError(
            "There was a problem uploading your video. Please try again.",
            code=6001,
            subcode=1363037,
            user_title="Error Uploading Video",
            user_msg="There was a problem uploading your video. Please try again.",
            error_data={
                "start_offset": expected,
                "end_offset": min(video["size"], expected + self.state.chunk_size),
            },
        )

    def _upload_transfer(self) -> tuple[int, dict]:
        _, video = self._session()
        try:
            start = int(self._require("start_offset"))
        except ValueError as exc:
            raise GraphError(
                "(#100) start_offset must be an integer", code=100
            ) from exc
        chunk = self.request.files.get("video_file_chunk")
        if chunk is None:
            raise GraphError("(#100) video_file_chunk is required", code=100)
        data = chunk[1]
        expected = len(video["data"])
        window = min(video["size"], expected + self.state.chunk_size) - expected
        if start != expected or len(data) != window:
            raise self._resume_error(video)
        keep = self.params.get("_interrupt_keep", "absent")
        if keep != "absent":
            kept = data[: (keep if keep is not None else len(data) // 2)]
            video["data"].extend(kept)
            raise self._resume_error(video)
        video["data"].extend(data)
        received = len(video["data"])
        end = min(video["size"], received + self.state.chunk_size)
        return 200, {"start_offset": str(received), "end_offset": str(end)}

    def _upload_finish(self) -> tuple[int, dict]:
        _, video = self._session()
        if len(video["data"]) != video["size"]:
            raise GraphError(
                "There was a problem uploading your video file. Please try again "
                "with another file.",
                code=6000,
                subcode=1363045,
                user_title="Error Uploading Video",
            )
        video["uploading"] = "complete"
        title = self.params.get("title") or self.params.get("name")
        if title:
            video["title"] = title
        if self.params.get("description"):
            video["description"] = self.params["description"]
        return 200, {"success": True}

    def _upload_cancel(self) -> tuple[int, dict]:
        _, video = self._session()
        video["uploading"] = "cancelled"
        return 200, {"success": True}

    def get_account_advideos(self) -> tuple[int, dict]:
        videos = sorted(self.state.finished_videos(), key=creation_order, reverse=True)
        title = self.params.get("title")
        if title:
            videos = [v for v in videos if v["title"] == title]
        return 200, self._page([self._project(v, ("id",)) for v in videos])

    def _video_view(self, video: dict[str, Any]) -> dict[str, Any]:
        view = {"id": video["id"], "title": video["title"], "status": None}
        if "status" in self._fields():
            view["status"] = self._video_status(video)
        return view

    def _video_status(self, video: dict[str, Any]) -> dict[str, Any]:
        if video["uploading"] != "complete":
            state, processing = "upload", "not_started"
        elif video["polls_left"] > 0:
            video["polls_left"] -= 1
            state, processing = "processing", "in_progress"
        else:
            state = video["final_status"]
            processing = "error" if state == "error" else "complete"
        errors = (
            [{"code": 1363008, "message": "Video Format Not Supported"}]
            if processing == "error"
            else []
        )
        return {
            "video_status": state,
            "processing_progress": 100 if processing == "complete" else 0,
            "uploading_phase": {
                "status": video["uploading"]
                if video["uploading"] != "cancelled"
                else "error",
                "bytes_transferred": len(video["data"]),
                "source_file_size": video["size"],
                "errors": [],
            },
            "processing_phase": {"status": processing, "errors": errors},
            "publishing_phase": {"status": "not_started", "errors": []},
        }

    def get_node_thumbnails(self, node: str) -> tuple[int, dict]:
        kind, _ = self._find_node(node)
        if kind != "videos":
            raise GraphError(
                "(#100) Tried accessing nonexisting field (thumbnails)", code=100
            )
        thumb = {
            "id": f"{node}9",
            "uri": f"{self.fake.base_url}/fake-thumbnails/{node}.jpg",
            "width": 1080,
            "height": 1920,
            "scale": 1,
            "is_preferred": True,
        }
        return 200, self._page([thumb])
