"""``data frames`` and ``data resize``: frame-exact folders, resumable, failures by name; re-encoded sizes."""
from __future__ import annotations

import dataclasses
import json

import av
import numpy as np
import pytest
import torch
from PIL import Image

from actioncore.cli import main
from actioncore.data.prep.frames import extract_frames, short_side_size
from actioncore.data.prep.resize import resize_videos
from actioncore.io import read_frames

from .conftest import HEIGHT, VIDEO_CASES, WIDTH, encode_video, frame_ids


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """``a/clip.mp4`` (H.264 with B-frames, 20 frames), ``b/clip.mkv`` (17), and a broken ``b/bad.mp4``."""
    root = tmp_path_factory.mktemp("src")
    (root / "a").mkdir()
    (root / "b").mkdir()
    encode_video(root / "a" / "clip.mp4", dataclasses.replace(VIDEO_CASES["h264_gop12"], frames=20))
    encode_video(root / "b" / "clip.mkv", dataclasses.replace(VIDEO_CASES["h264_mkv"], frames=17))
    (root / "b" / "bad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    return root


def load_folder(folder):
    files = sorted(folder.glob("img_*.jpg"))
    return torch.from_numpy(np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files]))


def test_frames_are_pyavs_frames_and_broken_videos_are_named(source, tmp_path, capsys):
    out = tmp_path / "frames"
    status = main(["data", "frames", str(source), "--out", str(out), "--workers", "2", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1  # one broken video: non-zero at the end, the others extracted
    assert list(report["failed"]) == ["b/bad"] and "bad.mp4" in report["failed"]["b/bad"]
    assert {k: v["frames"] for k, v in report["done"].items()} == {"a/clip": 20, "b/clip": 17}
    for name, video in (("a/clip", source / "a" / "clip.mp4"), ("b/clip", source / "b" / "clip.mkv")):
        folder = out / name
        count = report["done"][name]["frames"]
        assert sorted(p.name for p in folder.glob("img_*.jpg")) == [f"img_{k:05d}.jpg" for k in range(1, count + 1)]
        written = load_folder(folder)
        assert frame_ids(written) == list(range(count))  # file k+1 is frame k, in presentation order
        expected = read_frames(video, list(range(count)))
        assert (written.int() - expected.int()).abs().float().mean() < 2.0  # JPEG q95 error only
        assert frame_ids(read_frames(folder, [0, count - 1])) == [0, count - 1]  # the frame_folder decoder


def test_frames_resume_skips_complete_and_redoes_partial(source, tmp_path):
    out = tmp_path / "frames"
    first = extract_frames(source / "a", out, progress=False)
    assert first.done["clip"]["skipped"] is False
    (out / "clip" / "img_00020.jpg").unlink()
    assert extract_frames(source / "a", out, progress=False).done["clip"]["skipped"] is True  # marker says done
    (out / "clip" / ".done").unlink()  # a stopped extraction: no marker
    (out / "clip" / "img_00019.jpg").unlink()
    again = extract_frames(source / "a", out, progress=False)
    assert again.done["clip"] == {**first.done["clip"], "skipped": False}
    assert len(list((out / "clip").glob("img_*.jpg"))) == 20


def test_frames_short_side_in_worker_processes(source, tmp_path):
    report = extract_frames(source / "a" / "clip.mp4", tmp_path, short_side=24, workers=2, quality=90,
                            progress=False)
    assert (report.done["clip"]["width"], report.done["clip"]["height"]) == (32, 24)
    assert Image.open(tmp_path / "clip" / "img_00001.jpg").size == (32, 24)
    assert short_side_size(WIDTH, HEIGHT, 24) == (32, 24) and short_side_size(48, 100, 32) == (32, 66)


@pytest.mark.parametrize("codec", ["h264", "mpeg4"])
def test_resize_keeps_every_frame_at_the_new_size(source, tmp_path, codec):
    report = resize_videos(source / "a", tmp_path, short_side=32, codec=codec, progress=False)
    assert report.failed == {}
    with av.open(str(tmp_path / "clip.mp4")) as video:
        stream = video.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(stream)]
        assert (stream.codec_context.width, stream.codec_context.height) == (42, 32)  # 64x48 -> even 42x32
    assert len(frames) == report.done["clip"]["frames"] == 20
    resized = torch.from_numpy(np.stack([np.asarray(Image.fromarray(f).resize((64, 48))) for f in frames]))
    assert frame_ids(resized) == list(range(20))


def test_resize_changes_the_frame_rate(source, tmp_path):
    report = resize_videos(source / "a" / "clip.mp4", tmp_path, short_side=32, fps=12.5, progress=False)
    assert report.done["clip"]["frames"] == 10  # 20 frames at 25 fps -> 0.8 s at 12.5 fps
    with av.open(str(tmp_path / "clip.mp4")) as video:
        assert video.streams.video[0].average_rate == 12.5
        assert sum(1 for _ in video.decode(video=0)) == 10


def test_resize_keeps_audio_on_request(tmp_path):
    source = tmp_path / "talk.mp4"
    with av.open(str(source), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = out.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for k in range(25):
            out.mux(video.encode(av.VideoFrame.from_ndarray(np.full((32, 32, 3), 8 * k, np.uint8), format="rgb24")))
        for k in range(16):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1000), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, 1000 * k
            out.mux(audio.encode(frame))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    kept = resize_videos(source, tmp_path / "kept", short_side=16, keep_audio=True, progress=False)
    dropped = resize_videos(source, tmp_path / "dropped", short_side=16, progress=False)
    assert kept.done["talk"]["audio"] is True and dropped.done["talk"]["audio"] is False
    with av.open(str(tmp_path / "kept" / "talk.mp4")) as result:
        assert [s.type for s in result.streams] == ["video", "audio"]
        assert result.streams.audio[0].rate == 16000 and sum(1 for _ in result.decode(audio=0)) > 0
    with av.open(str(tmp_path / "dropped" / "talk.mp4")) as result:
        assert [s.type for s in result.streams] == ["video"]
