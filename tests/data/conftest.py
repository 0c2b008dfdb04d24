"""Small test videos and frame folders whose frames show their own index.

Every frame draws its index, Gray-coded, as 12 black-or-white 16x16 blocks (4 columns x 3 rows
of a 64x48 picture). Gray code changes one block per frame, so encoders see ordinary small
motion rather than a scene cut per frame, and flat blocks survive any codec's quantization:
:func:`frame_ids` reads the index back from decoded pixels, so a test can check that returned
frame k IS frame k. Encoding all videos takes well under a second.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from torchvision.io import write_jpeg

WIDTH, HEIGHT, BLOCK = 64, 48, 16
BITS = (WIDTH // BLOCK) * (HEIGHT // BLOCK)


def index_picture(index: int) -> np.ndarray:
    """uint8 ``[H, W]`` gray picture of ``index`` in Gray code, one block per bit."""
    gray = index ^ (index >> 1)
    picture = np.empty((HEIGHT, WIDTH), dtype=np.uint8)
    for bit in range(BITS):
        row, col = divmod(bit, WIDTH // BLOCK)
        level = 235 if (gray >> bit) & 1 else 20
        picture[row * BLOCK:(row + 1) * BLOCK, col * BLOCK:(col + 1) * BLOCK] = level
    return picture


def picture_index(picture: np.ndarray) -> int:
    """Inverse of :func:`index_picture` on a decoded ``[H, W]`` plane (block centres only)."""
    gray = 0
    margin = BLOCK // 4
    for bit in range(BITS):
        row, col = divmod(bit, WIDTH // BLOCK)
        block = picture[
            row * BLOCK + margin:(row + 1) * BLOCK - margin,
            col * BLOCK + margin:(col + 1) * BLOCK - margin,
        ]
        if block.mean() > 128:
            gray |= 1 << bit
    index = 0
    while gray:
        index ^= gray
        gray >>= 1
    return index


def frame_ids(frames: torch.Tensor) -> list[int]:
    """The index each frame of a uint8 ``[T, H, W, C]`` tensor shows (channel 0)."""
    assert frames.dtype == torch.uint8 and frames.ndim == 4
    return [picture_index(f[..., 0].numpy()) for f in frames]


@dataclasses.dataclass(frozen=True)
class VideoCase:
    """How one test video is encoded."""

    codec: str
    frames: int
    suffix: str
    gop: int = 30
    options: dict[str, str] = dataclasses.field(default_factory=dict)
    max_b_frames: int | None = None
    container_format: str | None = None
    vfr: bool = False
    reordered: bool = True
    """Whether the file must hold B-frames (decode order differs from presentation order)."""


X264 = {"bf": "3"}
VP9 = {"deadline": "realtime", "cpu-used": "8"}

VIDEO_CASES: dict[str, VideoCase] = {
    "h264_longgop": VideoCase(
        "libx264", 300, ".mp4", gop=250, options={**X264, "x264-params": "scenecut=0"}
    ),
    "h264_gop12": VideoCase("libx264", 120, ".mp4", gop=12, options=X264),
    "hevc": VideoCase("libx265", 120, ".mp4", options={"x265-params": "log-level=error"}),
    "vp9_webm": VideoCase("libvpx-vp9", 120, ".webm", options=VP9, reordered=False),
    "vp9_mp4": VideoCase("libvpx-vp9", 90, ".mp4", options=VP9, reordered=False),
    "mpeg4": VideoCase("mpeg4", 120, ".mp4", max_b_frames=2),
    "mpeg4_avi": VideoCase("mpeg4", 100, ".avi", max_b_frames=2),
    "h264_vfr": VideoCase("libx264", 120, ".mp4", options=X264, vfr=True),
    "h264_mkv": VideoCase("libx264", 110, ".mkv", options=X264),
    "h264_raw": VideoCase("libx264", 80, ".h264", options=X264, container_format="h264"),
}


def vfr_timestamps(count: int) -> list[int]:
    """Irregular millisecond pts: frame durations drawn from 15..89 ms."""
    durations = np.random.default_rng(7).integers(15, 90, size=count)
    return np.concatenate([[0], np.cumsum(durations[:-1])]).tolist()


def encode_video(path: Path, case: VideoCase, *, frames: int | None = None, **container_options):
    """Write ``case`` to ``path`` with PyAV; frame k shows index k."""
    count = case.frames if frames is None else frames
    with av.open(str(path), "w", format=case.container_format, options=container_options) as out:
        stream = out.add_stream(case.codec, rate=25, options=case.options)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.gop_size = case.gop
        if case.max_b_frames is not None:
            stream.codec_context.max_b_frames = case.max_b_frames
        time_base = Fraction(1, 1000)
        if case.vfr:
            stream.codec_context.time_base = time_base
        stamps = vfr_timestamps(count) if case.vfr else None
        for index in range(count):
            rgb = np.repeat(index_picture(index)[..., None], 3, axis=2)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if stamps is not None:
                frame.pts, frame.time_base = stamps[index], time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def videos(video_dir: Path) -> dict[str, Path]:
    """Every case of :data:`VIDEO_CASES`, encoded once per test session."""
    return {
        name: encode_video(video_dir / f"{name}{case.suffix}", case)
        for name, case in VIDEO_CASES.items()
    }


@dataclasses.dataclass(frozen=True)
class EncodedVideo:
    name: str
    path: Path
    case: VideoCase


@pytest.fixture(params=list(VIDEO_CASES))
def encoded_video(request: pytest.FixtureRequest, videos: dict[str, Path]) -> EncodedVideo:
    """Each test video in turn (a test using it runs once per codec/container)."""
    return EncodedVideo(request.param, videos[request.param], VIDEO_CASES[request.param])


@pytest.fixture(scope="session")
def faststart_mp4(video_dir: Path) -> Path:
    """H.264 mp4 with the index (moov) before the frames, as streaming sites serve them."""
    case = dataclasses.replace(VIDEO_CASES["h264_gop12"], frames=60)
    return encode_video(video_dir / "faststart.mp4", case, movflags="faststart")


@pytest.fixture(scope="session")
def hevc_temporal_layers(video_dir: Path) -> Path:
    """HEVC with two temporal sub-layers (x265 ``temporal-layers``), B-frames in the upper one."""
    case = VideoCase(
        "libx265", 60, ".mp4", options={"x265-params": "log-level=error:temporal-layers=2"}
    )
    return encode_video(video_dir / "hevc_temporal_layers.mp4", case)


def write_frame_folder(folder: Path, count: int, template: str, start_index: int) -> Path:
    folder.mkdir(parents=True)
    for index in range(count):
        rgb = torch.from_numpy(index_picture(index))[None].expand(3, -1, -1).contiguous()
        write_jpeg(rgb, str(folder / template.format(start_index + index)), quality=95)
    return folder


@pytest.fixture(scope="session")
def frame_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MMAction2 raw frames: ``img_00001.jpg`` ... ``img_00040.jpg``."""
    folder = tmp_path_factory.mktemp("rawframes") / "video"
    return write_frame_folder(folder, 40, "img_{:05d}.jpg", 1)


@pytest.fixture(scope="session")
def flow_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """denseflow layout: ``flow_x_00001.jpg`` shows the index, ``flow_y_00001.jpg`` its negative."""
    folder = tmp_path_factory.mktemp("flow") / "video"
    folder.mkdir()
    for index in range(20):
        x = torch.from_numpy(index_picture(index))[None]
        write_jpeg(x, str(folder / f"flow_x_{index + 1:05d}.jpg"), quality=95)
        write_jpeg(255 - x, str(folder / f"flow_y_{index + 1:05d}.jpg"), quality=95)
    return folder


@pytest.fixture
def read_ids() -> Callable[[torch.Tensor], list[int]]:
    return frame_ids
