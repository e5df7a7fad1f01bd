"""Chunked (resumable) video upload: start, transfer each window, finish.

Meta names the byte window it wants next; after an interrupted transfer it says
where to resume (6001/1363037), and a finish whose answer was lost is checked by
reading the upload's status rather than repeated (meta-graph-api.md §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promotion.meta.errors import MetaError, MetaVideoUploadError
from promotion.meta.graph.transport import GraphTransport
from promotion.meta.protocol import MediaSource, MetaCall
from promotion.meta.retry import UPLOAD_RESUME_SUBCODE, may_have_succeeded

DEFAULT_CHUNK_THRESHOLD = 25 * 1024 * 1024


@dataclass(frozen=True)
class UploadSession:
    """A started upload: where its phases are POSTed and what Meta named it."""

    account_path: str
    session_id: str
    video_id: str


class ChunkedVideoUpload(GraphTransport):
    """The chunked upload protocol, on top of the transport."""

    def _upload_chunked(
        self, *, account_path: str, source: MediaSource, name: str, size: int
    ) -> str:
        start = self._retrying(
            "upload_video",
            lambda attempt: self._send(
                "upload_video",
                "POST",
                account_path,
                attempt=attempt,
                params={"upload_phase": "start", "file_size": size},
                details={"phase": "start", "name": name, "bytes": size},
            ),
        )
        session = UploadSession(
            account_path, str(start["upload_session_id"]), str(start["video_id"])
        )
        offset, end = int(start["start_offset"]), int(start["end_offset"])
        # Meta's own SDK allows one resume per 10 MiB, at least two.
        resumes_left = max(size // (10 * 1024 * 1024), 2)
        attempt = 1
        # One window in memory at a time, read from wherever the video lies.
        while offset < end:
            chunk = source.read_range(offset, end - offset)
            try:
                body = self._send_session_phase(
                    "transfer",
                    session,
                    attempt=attempt,
                    params={"start_offset": offset},
                    files={
                        "video_file_chunk": (
                            source.filename,
                            chunk,
                            "application/octet-stream",
                        )
                    },
                    details={"start_offset": offset},
                )
            except MetaError as exc:
                window = _resume_window(exc)
                if window is None:
                    # Same window again; if Meta got it after all, it answers
                    # 1363037 naming where to go on.
                    self._wait_or_raise("upload_video", exc, attempt)
                    attempt += 1
                    continue
                if resumes_left <= 0:
                    raise
                resumes_left -= 1
                offset, end = window
                continue
            offset, end = int(body["start_offset"]), int(body["end_offset"])
            attempt = 1
        self._finish_upload(session, name=name)
        return session.video_id

    def _finish_upload(self, session: UploadSession, *, name: str) -> None:
        attempt, unsure = 1, False
        while True:
            if unsure and self._upload_complete(session.video_id):
                self._report(
                    MetaCall(
                        "upload_video",
                        attempt,
                        True,
                        object_id=session.video_id,
                        details={"phase": "finish", "verified_by_status": True},
                    )
                )
                return
            try:
                self._send_session_phase(
                    "finish",
                    session,
                    attempt=attempt,
                    params={"title": name},
                    details={"name": name},
                )
                return
            except MetaError as exc:
                unsure = may_have_succeeded(exc)
                self._wait_or_raise("upload_video", exc, attempt)
            attempt += 1

    def _send_session_phase(
        self,
        phase: str,
        session: UploadSession,
        *,
        attempt: int,
        params: Mapping[str, Any],
        details: Mapping[str, Any],
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One request of a started upload session (its transfer or finish phase)."""
        return self._send(
            "upload_video",
            "POST",
            session.account_path,
            attempt=attempt,
            object_id=session.video_id,
            params={
                "upload_phase": phase,
                "upload_session_id": session.session_id,
                **params,
            },
            files=files,
            details={"phase": phase, **details},
        )

    def _upload_complete(self, video_id: str) -> bool:
        body = self._read_fields("upload_video", video_id, "status")
        phase = (body.get("status") or {}).get("uploading_phase") or {}
        return phase.get("status") == "complete"


def _resume_window(error: MetaError) -> tuple[int, int] | None:
    """The [start, end) Meta names in a 6001/1363037 error, if any."""
    if not isinstance(error, MetaVideoUploadError):
        return None
    if error.subcode != UPLOAD_RESUME_SUBCODE:
        return None
    try:
        return (
            int(error.error_data["start_offset"]),
            int(error.error_data["end_offset"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
