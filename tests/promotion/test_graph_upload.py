"""Chunked (resumable) video upload against the fake: phases, resume, lost answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promotion.meta.errors import MetaVideoUploadError
from promotion.meta.retry import RetryPolicy

VIDEOS = r"act_\d+/advideos$"
TRANSFER = {"upload_phase": "transfer"}


@pytest.fixture
def chunked_client(make_client, fake_graph):
    """Files above 1 kB go chunked; the server hands out 1 kB windows."""
    fake_graph.state.chunk_size = 1024
    return make_client(chunk_threshold_bytes=1024)


def write_file(tmp_path, size: int) -> Path:
    path = tmp_path / "variant.mp4"
    path.write_bytes(os.urandom(size))
    return path


def phases(fake_graph) -> list[str]:
    return [
        r.params.get("upload_phase") for r in fake_graph.requests_to("POST", VIDEOS)
    ]


def test_a_large_video_goes_through_start_transfer_finish(
    chunked_client, fake_graph, tmp_path
):
    # Given a file of 3.5 server windows
    path = write_file(tmp_path, 3584)

    # When it is uploaded
    video_id = chunked_client.upload_video(path=str(path), name="ce-v9-video")

    # Then it took start, four transfers and finish, with the SDK's field names
    assert phases(fake_graph) == ["start", *["transfer"] * 4, "finish"]
    requests = fake_graph.requests_to("POST", VIDEOS)
    assert requests[0].params["file_size"] == "3584"
    assert [r.params["start_offset"] for r in requests[1:5]] == [
        "0",
        "1024",
        "2048",
        "3072",
    ]
    assert {r.params["upload_session_id"] for r in requests[1:]} == {
        requests[1].params["upload_session_id"]
    }
    assert len(requests[4].files["video_file_chunk"][1]) == 512
    assert requests[5].params["title"] == "ce-v9-video"
    # And the server assembled exactly the file, under the variant's name
    video = fake_graph.state.videos[video_id]
    assert bytes(video["data"]) == path.read_bytes()
    assert chunked_client.find_video_by_name(name="ce-v9-video") == video_id


def test_a_mid_transfer_1363037_resumes_at_the_offset_meta_names(
    chunked_client, fake_graph, tmp_path
):
    # Given Meta keeps only 300 bytes of each of the first two transfers and
    # answers 1363037 naming where to go on
    path = write_file(tmp_path, 3584)
    fake_graph.faults.upload_interrupt_next(keep_bytes=300)
    fake_graph.faults.upload_interrupt_next(keep_bytes=300)

    # When the file is uploaded
    video_id = chunked_client.upload_video(path=str(path), name="v")

    # Then the client went on from offset 300, then 600, as Meta said
    offsets = [
        r.params["start_offset"]
        for r in fake_graph.requests_to("POST", VIDEOS)
        if r.params.get("upload_phase") == "transfer"
    ]
    assert offsets[:3] == ["0", "300", "600"]
    # And the assembled bytes equal the file
    assert bytes(fake_graph.state.videos[video_id]["data"]) == path.read_bytes()


def test_a_transfer_whose_answer_was_lost_is_resumed_not_duplicated(
    make_client, fake_graph, tmp_path
):
    # Given the first chunk arrives but its answer is lost, and the next one is
    # stored but answered too late
    fake_graph.state.chunk_size = 1024
    client = make_client(chunk_threshold_bytes=1024, timeout=0.3)
    path = write_file(tmp_path, 4096)
    fake_graph.faults.lose_response_next("POST", VIDEOS, when=TRANSFER)
    fake_graph.faults.timeout_next("POST", VIDEOS, seconds=1.0, when=TRANSFER)

    # When the file is uploaded
    video_id = client.upload_video(path=str(path), name="v")

    # Then the resend was answered 1363037 and the client moved on; bytes intact
    assert bytes(fake_graph.state.videos[video_id]["data"]) == path.read_bytes()
    assert len(fake_graph.state.finished_videos()) == 1


def test_a_lost_finish_is_verified_by_status_not_repeated_blindly(
    chunked_client, fake_graph, tmp_path, recorder
):
    # Given the finish is applied but its answer lost
    path = write_file(tmp_path, 2048)
    fake_graph.faults.lose_response_next(
        "POST", VIDEOS, when={"upload_phase": "finish"}
    )

    # When the file is uploaded
    video_id = chunked_client.upload_video(path=str(path), name="v")

    # Then the client read the upload status and stopped there
    assert phases(fake_graph).count("finish") == 1
    assert fake_graph.state.videos[video_id]["uploading"] == "complete"
    assert recorder.ops("upload_video")[-1].details["verified_by_status"] is True


def test_a_throttled_transfer_is_retried_at_the_same_offset(
    chunked_client, fake_graph, tmp_path, recorder
):
    path = write_file(tmp_path, 2048)
    fake_graph.faults.rate_limit_next("POST", VIDEOS, code=4, when=TRANSFER)

    video_id = chunked_client.upload_video(path=str(path), name="v")

    offsets = [
        r.params["start_offset"]
        for r in fake_graph.requests_to("POST", VIDEOS)
        if r.params.get("upload_phase") == "transfer"
    ]
    assert offsets == ["0", "0", "1024"]
    assert bytes(fake_graph.state.videos[video_id]["data"]) == path.read_bytes()
    assert len(recorder.sleeps) == 1


def test_endless_1363037_stops_after_the_resume_budget(
    make_client, fake_graph, tmp_path
):
    # Given Meta interrupting every transfer
    fake_graph.state.chunk_size = 1024
    client = make_client(
        chunk_threshold_bytes=1024, retry_policy=RetryPolicy(max_attempts=3)
    )
    path = write_file(tmp_path, 2048)
    fake_graph.faults.upload_interrupt_next(keep_bytes=0, times=100)

    # When the upload is tried
    with pytest.raises(MetaVideoUploadError) as caught:
        client.upload_video(path=str(path), name="v")

    # Then it gave up with Meta's error after the SDK-sized budget (two resumes)
    assert caught.value.subcode == 1363037
    assert phases(fake_graph).count("transfer") == 3


def test_a_video_in_the_bucket_streams_to_meta_window_by_window(
    s3_media, chunked_client, fake_graph, db
):
    # Given a rendered video stored in S3 (no copy of it on this disk)
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from productions.storage import StoredMedia

    payload = os.urandom(3584)
    name = default_storage.save("variants/v.mp4", ContentFile(payload))
    source = StoredMedia(storage=default_storage, name=name)

    # When it is uploaded straight from storage
    video_id = chunked_client.upload_video(path=source, name="ce-v10-video")

    # Then each transfer carried one window read from the bucket, and Meta holds the
    # exact bytes
    assert phases(fake_graph) == ["start", *["transfer"] * 4, "finish"]
    assert bytes(fake_graph.state.videos[video_id]["data"]) == payload
    assert s3_media.object_keys() == [name]


def test_a_variant_joined_from_pieces_is_accepted_whole_from_the_bucket(
    s3_media, make_client, fake_graph, tmp_path, db
):
    # Given a variant rendered from the piece cache and stored in the bucket
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from productions.media import probe_media
    from productions.storage import StoredMedia
    from variants.rendering.commands import RenderSpec, Segment
    from variants.rendering.demo_media import make_synthetic_master
    from variants.rendering.renderer import PieceCache, render_to_file

    master = make_synthetic_master(
        tmp_path / "m.mp4", duration=6.0, width=180, height=320
    )
    spec = RenderSpec(
        source=master,
        segments=(Segment(0.0, 2.5, (0.0, 3.0)), Segment(4.0, 6.0, (4.0, 6.0))),
        text_overlay="Out Friday",
        width=180,
        height=320,
        source_duration=6.0,
    )
    result = render_to_file(spec, tmp_path / "v.mp4", cache=PieceCache(tmp_path / "p"))
    name = default_storage.save("variants/v.mp4", ContentFile(result.path.read_bytes()))
    fake_graph.state.chunk_size = 16 * 1024
    client = make_client(chunk_threshold_bytes=16 * 1024)

    # When it is uploaded to Meta from storage
    video_id = client.upload_video(
        path=StoredMedia(storage=default_storage, name=name), name="ce-v11-video"
    )

    # Then Meta holds a file that probes as the planned H.264/AAC video
    received = tmp_path / "received.mp4"
    received.write_bytes(bytes(fake_graph.state.videos[video_id]["data"]))
    media = probe_media(received)
    assert (media.video_codec, media.audio_codec) == ("h264", "aac")
    assert abs(media.duration - spec.duration) <= 1 / 30
    assert (
        client.wait_video_ready(video_id=video_id, timeout_seconds=5).state == "ready"
    )
