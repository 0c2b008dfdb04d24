"""Deferred reads: the pipeline decodes when pixels are needed and resamples chunk by chunk, on
this thread or beside a helper thread that decodes, with the same pixels as reading first."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from actioncore.builtin.decode import Decode
from actioncore.builtin.decoders import PyAVDecoder
from actioncore.builtin.samplers import SampleFrames
from actioncore.builtin.transforms import Flip, FormatShape, RandomResizedCrop, Resize, TenCrop, ThreeCrop
from actioncore.data import deferred
from actioncore.data.deferred import DeferredFrames, frames_in_layout
from actioncore.data.geometry import Geometry
from actioncore.data.pipeline import Pipeline, materialize
from actioncore.data.sample import VideoSample
from actioncore.data.spare_cores import SpareCores
from actioncore.data.watch import time_limit
from actioncore.errors import ConfigError, DataError

CASES = ["h264_longgop", "h264_gop12", "hevc", "vp9_webm", "mpeg4_avi", "h264_vfr", "h264_raw"]


def _geometry() -> Geometry:
    return Geometry.identity(48, 64).crop(3, 2, 59, 45).resize(40, 36).flip("horizontal")


def _index_sets(frames: int) -> dict[str, np.ndarray]:
    return {
        "slowfast": 5 + 2 * np.arange(32),          # 32 frames in 4 chunks
        "long": np.arange(frames - 45, frames),      # chunks of 8 and a ragged last one
        "repeats": np.array([60, 1, 1, *range(20, 40), 7, 60]),
        "sparse": np.array([70, 3, 41]),             # one chunk
    }


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "actioncore-decode"]


@pytest.mark.parametrize("overlap", ["on", "off"])
@pytest.mark.parametrize("name", CASES)
def test_render_equals_reading_then_resampling(videos, name, overlap, read_ids):
    geometry = _geometry()
    with PyAVDecoder().open(videos[name]) as reader:
        for label, indices in _index_sets(reader.num_frames).items():
            frames = reader.read(indices)
            assert read_ids(frames) == indices.tolist(), label
            got = DeferredFrames(reader, indices, overlap).render(geometry)
            assert torch.equal(got, geometry.apply(frames)), label
    assert not _helpers()


@pytest.mark.parametrize("layout", [(3, 0, 1, 2), (0, 3, 1, 2), (0, 1, 2, 3)])
def test_render_writes_the_layout_asked_for(videos, layout):
    geometry = _geometry()
    indices = 5 + 2 * np.arange(32)
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        expected = geometry.apply(reader.read(indices))
        got = DeferredFrames(reader, indices, "on").render(geometry, layout=layout)
    assert torch.equal(got, expected)
    assert got.permute(*layout).is_contiguous()


def test_frames_in_layout_strides():
    assert frames_in_layout((32, 4, 5, 3), (3, 0, 1, 2)).stride() == (20, 5, 1, 640)
    assert frames_in_layout((32, 4, 5, 3), (0, 3, 1, 2)).stride() == (60, 5, 1, 20)
    with pytest.raises(ValueError, match="not an order"):
        frames_in_layout((1, 2, 3, 4), (0, 1, 1, 2))


def _steps(overlap: str, *, num_clips: int = 1, input_format: str = "NCTHW") -> list:
    return [SampleFrames(clip_len=32 // num_clips, frame_interval=2, num_clips=num_clips),
            Decode(overlap=overlap), Resize(scale=(-1, 40)), RandomResizedCrop(),
            Resize(scale=(28, 28), keep_ratio=False), Flip(flip_ratio=0.5),
            FormatShape(input_format=input_format)]


def _run(steps: list, reader, seed: int, *, eager: bool) -> VideoSample:
    sample = VideoSample(source=reader.path, num_frames=reader.num_frames, reader=reader,
                         rng=np.random.default_rng(seed))
    if not eager:
        return Pipeline(steps)(sample)
    for step in steps:  # what the pipeline did before reads were deferred
        if step.needs_pixels:
            materialize(sample)
        sample = step(sample)
    return materialize(sample)


@pytest.mark.parametrize("overlap", ["on", "off", "auto"])
@pytest.mark.parametrize("num_clips, input_format", [(1, "NCTHW"), (2, "NCTHW"), (1, "NCHW")])
def test_pipeline_output_is_unchanged_by_deferring(videos, overlap, num_clips, input_format):
    steps = _steps(overlap, num_clips=num_clips, input_format=input_format)
    with PyAVDecoder().open(videos["h264_longgop"]) as reader:
        for seed in range(4):
            got = _run(steps, reader, seed, eager=False)
            expected = _run(steps, reader, seed, eager=True)
            assert torch.equal(got.frames, expected.frames)
            assert got.frames.is_contiguous()
            assert got.meta["input_shape"] == expected.meta["input_shape"]


@pytest.mark.parametrize("views", [ThreeCrop(crop_size=32), TenCrop(crop_size=32)])
def test_multi_view_steps_read_a_deferred_clip_themselves(videos, views):
    steps = [SampleFrames(clip_len=4, frame_interval=2, num_clips=2, test_mode=True), Decode(overlap="on"),
             Resize(scale=(-1, 32)), views, FormatShape(input_format="NCTHW")]
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        got, expected = (_run(steps, reader, 0, eager=eager) for eager in (False, True))
    assert got.num_crops == expected.num_crops > 1
    assert torch.equal(got.frames, expected.frames)


def test_steps_between_decode_and_pixels_see_the_frame_shape(videos):
    seen = []

    class Peek:
        needs_pixels = False

        def __call__(self, sample):
            seen.append((type(sample.frames), tuple(sample.frames.shape), sample.frames.dtype))
            return sample

    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        sample = VideoSample(source=reader.path, num_frames=reader.num_frames, reader=reader)
        sample = Pipeline([SampleFrames(clip_len=4, frame_interval=1, num_clips=1), Decode(), Peek()])(sample)
    assert seen == [(DeferredFrames, (4, 48, 64, 3), torch.uint8)]
    assert isinstance(sample.frames, torch.Tensor) and tuple(sample.frames.shape) == (4, 48, 64, 3)


def test_decode_called_on_its_own_reads_at_once(videos):
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        sample = VideoSample(source=reader.path, reader=reader, frame_indices=np.array([[3, 9]]))
        assert isinstance(Decode()(sample).frames, torch.Tensor)


def test_decode_rejects_an_unknown_overlap():
    with pytest.raises(ConfigError, match="overlap must be 'auto', 'on' or 'off', not 'sometimes'"):
        Decode(overlap="sometimes")


def test_an_index_the_decoder_disagrees_with_falls_back_to_a_full_read(videos, read_ids):
    """Frames already handed over cannot be trusted once the index proves wrong: read again."""
    indices = 40 + np.arange(20)
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        index = reader._index
        reader._index = type(index)(index.pts + 1, index.keyframes, index.seek_ts, index.start_ts)
        got = DeferredFrames(reader, indices, "on").render(Geometry.identity(48, 64).flip("vertical"))
        assert reader._reindexed
        assert read_ids(got.flip(1)) == indices.tolist()
    assert not _helpers()


def test_a_decoding_error_on_the_helper_names_the_file_and_stops_it(videos, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(Path(videos["h264_longgop"]).read_bytes())
    with PyAVDecoder().open(broken) as reader:
        calls = [0]
        decode = reader._decode_packet

        def failing(packet):
            calls[0] += 1
            if calls[0] == 30:
                raise __import__("av").InvalidDataError(1094995529, "Invalid data found")
            return decode(packet)

        reader._decode_packet = failing
        with pytest.raises(DataError, match="broken.mp4: cannot decode"):
            DeferredFrames(reader, np.arange(100, 160), "on").render(_geometry())
    assert not _helpers()


def test_a_failure_on_this_thread_stops_the_helper_first(videos):
    with PyAVDecoder().open(videos["h264_longgop"]) as reader:
        failed = threading.Event()
        yielded = []
        stream = reader._stream_unique

        def held(indices):  # decodes two chunks, then waits until this thread has failed
            for frame in stream(indices):
                yielded.append(frame)
                if len(yielded) == 16:
                    assert failed.wait(10)
                yield frame

        def failing(frame):
            assert _helpers()  # still decoding beside this thread
            failed.set()
            raise KeyboardInterrupt

        reader._stream_unique, reader._finish = held, failing
        with pytest.raises(KeyboardInterrupt):
            DeferredFrames(reader, np.arange(200, 264), "on").render(_geometry())
        assert not _helpers()
        assert len(yielded) <= 17  # it stopped within a frame of its hold instead of decoding all 64
        del reader._stream_unique, reader._finish
        assert reader.read([5]).shape == (1, 48, 64, 3)  # the reader is usable again


def test_the_data_timeout_interrupts_a_read_on_the_helper(videos):
    """data.timeout's alarm lands on this thread, which waits for chunks: it stops the helper at
    next frame and raises the timeout error, as for a read on this thread."""
    with PyAVDecoder().open(videos["h264_longgop"]) as reader:
        stream = reader._stream_unique

        def slow(indices):
            for frame in stream(indices):
                time.sleep(0.05)
                yield frame

        reader._stream_unique = slow
        start = time.monotonic()
        with pytest.raises(DataError, match="longer than data.timeout = 0.3 s"), time_limit(0.3, reader.path):
            DeferredFrames(reader, np.arange(100, 164), "on").render(_geometry())
        assert time.monotonic() - start < 1.5  # 64 frames would take 3.2 s
    assert not _helpers()


def test_auto_overlaps_only_with_a_spare_core(videos, monkeypatch):
    used = []
    real = deferred._decoded_on_helper

    def helper(reader, unique):
        used.append(True)
        return real(reader, unique)

    monkeypatch.setattr(deferred, "_decoded_on_helper", helper)
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        for spare, expected in ((2.0, 1), (1.0, 0), (None, 0)):
            used.clear()
            monkeypatch.setattr(deferred, "spare_cores", lambda: type("S", (), {"estimate": lambda self: spare})())
            DeferredFrames(reader, np.arange(32), "auto").render(_geometry())
            DeferredFrames(reader, np.arange(8), "auto").render(_geometry())  # one chunk: never
            assert len(used) == expected, spare


def _write_stat(path: Path, cpus: dict[int, tuple[int, int]]) -> None:
    """A /proc/stat with ``cpu<n> busy idle`` split over the usual eight columns."""
    lines = ["cpu  0 0 0 0 0 0 0 0 0 0"]
    for cpu, (busy, idle) in cpus.items():
        lines.append(f"cpu{cpu} {busy - 3} 1 1 {idle - 2} 2 1 0 0 0 0")
    lines.append("intr 1 2 3")
    path.write_text("\n".join(lines) + "\n")


def _write_own(path: Path, utime: int, stime: int) -> None:
    fields = ["S"] + ["0"] * 10 + [str(utime), str(stime)] + ["0"] * 30
    path.write_text(f"1234 (python x) {' '.join(fields)}\n")


def test_spare_cores_leaves_out_this_process_and_other_cpus(tmp_path, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr("actioncore.data.spare_cores._TICKS", 100)
    clock = [100.0]
    monkeypatch.setattr("actioncore.data.spare_cores.time.monotonic", lambda: clock[0])
    stat, own = tmp_path / "stat", tmp_path / "self_stat"
    _write_stat(stat, {0: (1000, 5000), 1: (2000, 5000), 2: (0, 9000)})
    _write_own(own, 300, 100)
    sensor = SpareCores(interval=0.25, stat=str(stat), own_stat=str(own), cpu_max=str(tmp_path / "none"))
    assert sensor.estimate() is None  # no interval has passed yet
    # One second later: cpus 0 and 1 were busy 150 ticks, 120 of them this process; cpu 2 (not
    # ours) was busy all along.
    clock[0] += 1.0
    _write_stat(stat, {0: (1100, 5000), 1: (2050, 5000), 2: (100, 9000)})
    _write_own(own, 400, 120)
    assert sensor.estimate() == pytest.approx(2 - 0.3)
    clock[0] += 0.1  # within the interval: the last answer
    _write_stat(stat, {0: (1200, 5000), 1: (2150, 5000), 2: (200, 9000)})
    assert sensor.estimate() == pytest.approx(2 - 0.3)


@pytest.mark.parametrize("cpu_max, cores", [("max 100000\n", 4.0), ("150000 100000\n", 1.5), ("garbage", 4.0)])
def test_spare_cores_counts_no_more_than_the_cgroup_quota(tmp_path, monkeypatch, cpu_max, cores):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    (tmp_path / "cpu.max").write_text(cpu_max)
    (tmp_path / "stat").write_text("cpu  0 0 0 0 0 0 0 0\n")
    _write_own(tmp_path / "own", 0, 0)
    sensor = SpareCores(interval=0.0, stat=str(tmp_path / "stat"), own_stat=str(tmp_path / "own"),
                        cpu_max=str(tmp_path / "cpu.max"))
    assert sensor.estimate() == pytest.approx(cores)


def test_spare_cores_is_unknown_without_the_counters(tmp_path):
    assert SpareCores(stat=str(tmp_path / "missing")).estimate() is None
