"""Frame-accurate decoding: index i is the i-th frame in presentation order, whatever the codec.

The fixtures (conftest.py) encode videos whose frames show their own index, so every check
compares the index a returned frame shows with the index asked for.
"""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch

from actioncore.builtin.decoders import (
    FrameFolderDecoder,
    PyAVDecoder,
    PyAVReader,
    VideoReader,
)
from actioncore.builtin.decoders import frame_folder as frame_folder_module
from actioncore.errors import DataError
from actioncore.io import read_frames

pytestmark = pytest.mark.filterwarnings(
    "ignore:The image decoding and encoding capabilities of TorchVision:DeprecationWarning"
)


def test_num_frames_and_size_match_the_encoder(encoded_video):
    with PyAVDecoder().open(encoded_video.path) as reader:
        assert isinstance(reader, VideoReader)
        assert reader.num_frames == encoded_video.case.frames
        assert (reader.height, reader.width) == (48, 64)
        if not encoded_video.case.vfr:
            assert reader.fps == pytest.approx(25.0)


def test_random_index_sets_in_any_order_with_repeats(encoded_video, read_ids):
    rng = np.random.default_rng(0)
    n = encoded_video.case.frames
    with PyAVDecoder().open(encoded_video.path) as reader:
        for size in (1, 3, 8, 25):
            wanted = rng.integers(0, n, size=size)
            assert read_ids(reader.read(wanted)) == wanted.tolist()
        descending = sorted(rng.choice(n, size=10, replace=False).tolist(), reverse=True)
        assert read_ids(reader.read(descending)) == descending
        repeated = [5, 5, n - 1, 0, 5, n - 1]
        assert read_ids(reader.read(repeated)) == repeated


def test_first_last_and_all_frames(encoded_video, read_ids):
    n = encoded_video.case.frames
    with PyAVDecoder().open(encoded_video.path) as reader:
        assert read_ids(reader.read([0])) == [0]
        assert read_ids(reader.read([n - 1])) == [n - 1]
        frames = reader.read(np.arange(n))
        assert frames.shape == (n, 48, 64, 3) and frames.dtype == torch.uint8
        assert read_ids(frames) == list(range(n))


def test_clip_sampling_patterns(encoded_video, read_ids):
    """TSN-like segments and SlowFast-like strided clips, as samplers produce them."""
    n = encoded_video.case.frames
    tsn = np.linspace(0, n - 1, 8).round().astype(np.int64)
    strided = np.arange(n // 3, n // 3 + 32, 2)
    with PyAVDecoder().open(encoded_video.path) as reader:
        assert read_ids(reader.read(tsn)) == tsn.tolist()
        assert read_ids(reader.read(strided)) == strided.tolist()


def test_fixture_videos_hold_b_frames_and_several_keyframes(encoded_video):
    """Guard for the tests above: they only mean something on reordered, multi-GOP streams."""
    with av.open(str(encoded_video.path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    keyframes = sum(p.is_keyframe for p in packets)
    if encoded_video.case.container_format is None:
        pts = [p.pts for p in packets]
        assert (pts != sorted(pts)) == encoded_video.case.reordered
    assert keyframes >= 2


def test_reads_near_the_end_of_a_long_gop_do_not_decode_from_the_start(videos, read_ids):
    with PyAVDecoder().open(videos["h264_longgop"]) as reader:
        assert reader._index.keyframes.tolist() == [0, 250]
        wanted = [299, 270, 298]
        assert read_ids(reader.read(wanted)) == wanted
        assert reader.seeks == 1
        assert reader.frames_decoded <= 50 + 8


def test_sparse_reads_seek_past_keyframes_instead_of_decoding_through(videos, read_ids):
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        wanted = [3, 50, 100]
        assert read_ids(reader.read(wanted)) == wanted
        assert reader.seeks == 3
        assert reader.frames_decoded < 3 * (12 + 8)


def test_consecutive_frames_decode_through_keyframes_without_seeking(videos, read_ids):
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        wanted = list(range(20, 84, 2))
        assert read_ids(reader.read(wanted)) == wanted
        assert reader.seeks == 1
        assert reader.frames_decoded <= 84 - 12 + 8


def test_stream_without_timestamps_falls_back_to_counting(videos, read_ids):
    with PyAVDecoder().open(videos["h264_raw"]) as reader:
        assert reader._index is None
        assert read_ids(reader.read([70, 2, 41])) == [70, 2, 41]
        assert reader.seeks == 0


def test_index_that_disagrees_with_the_decoder_is_rebuilt_by_decoding(videos, read_ids):
    """A packet index whose pts the decoder never emits triggers one full decode count."""
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        index = reader._index
        reader._index = type(index)(index.pts + 1, index.keyframes, index.seek_ts, index.start_ts)
        assert read_ids(reader.read([7, 90])) == [7, 90]
        assert reader.num_frames == 120
        assert reader._index is not None and np.array_equal(reader._index.pts, index.pts)


def test_frames_without_pts_are_counted_from_the_keyframe_seeked_to(videos, read_ids, monkeypatch):
    """Some decoders return frames without pts. Counting them needs every frame decoded, so the
    reader stops skipping non-reference frames and draining early when it meets one."""
    with PyAVDecoder().open(videos["h264_gop12"]) as reader:
        assert reader.skip_nonref and not reader._counting
        decode = reader._decode_packet

        def without_pts(packet):
            frames = decode(packet)
            for frame in frames:
                frame.pts = None
            return frames

        monkeypatch.setattr(reader, "_decode_packet", without_pts)
        wanted = [100, 3, 57, 58, 119, 24]
        assert read_ids(reader.read(wanted)) == wanted
        assert reader.seeks >= 4
        assert reader._counting
        assert read_ids(reader.read([7, 64])) == [7, 64]


def test_threads_decode_the_same_frames(videos, read_ids):
    with PyAVDecoder(threads=2).open(videos["hevc"]) as reader:
        assert reader._stream.codec_context.thread_count == 2
        wanted = [119, 0, 64, 65, 30]
        assert read_ids(reader.read(wanted)) == wanted


# Skipping non-reference frames that were not asked for

SKIPPING = ["h264_longgop", "h264_gop12", "h264_vfr", "h264_mkv", "hevc"]
"""Fixture videos whose codec lets the reader skip non-reference frames exactly."""


def _plain_decode(path: Path) -> np.ndarray:
    """Every frame in presentation order from one plain PyAV decode: the reference pixels."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        frames = sorted(
            ((frame.pts, frame.to_ndarray(format="rgb24", threads=1))
             for frame in container.decode(stream)),
            key=lambda item: item[0],
        )
    return np.stack([pixels for _, pixels in frames])


def _index_sets(n: int) -> list[np.ndarray]:
    """TSN-like and SlowFast-like clips, random sets, and every frame."""
    rng = np.random.default_rng(3)
    segment = n / 8
    sets = [(np.arange(8) * segment + rng.random(8) * segment).astype(np.int64) for _ in range(4)]
    sets += [np.arange(start, min(start + 32, n), 2) for start in rng.integers(0, n - 16, size=4)]
    sets += [rng.integers(0, n, size=size) for size in (1, 5, 17)]
    return [*sets, np.arange(n)]


@pytest.mark.parametrize("name", SKIPPING)
def test_skipping_non_reference_frames_returns_bit_identical_frames(videos, name):
    path = videos[name]
    reference = _plain_decode(path)
    with PyAVDecoder().open(path) as skipping, PyAVDecoder(skip_nonref=False).open(path) as full:
        assert skipping.skip_nonref and not full.skip_nonref
        for wanted in _index_sets(len(reference)):
            frames = skipping.read(wanted)
            assert torch.equal(frames, full.read(wanted))
            assert np.array_equal(frames.numpy(), reference[wanted])
        assert skipping._stream.codec_context.skip_frame == "DEFAULT"


@pytest.mark.parametrize("name", SKIPPING)
@pytest.mark.parametrize("style", ["tsn", "slowfast"])
def test_skipping_decodes_fewer_frames(videos, name, style, read_ids):
    with PyAVDecoder().open(videos[name]) as reader:
        n = reader.num_frames
    if style == "tsn":
        wanted = np.linspace(5, n - 3, 8).round().astype(np.int64)
    else:
        wanted = np.arange(n // 3, min(n // 3 + 64, n), 2)
    counts = {}
    for skip in (True, False):
        with PyAVDecoder(skip_nonref=skip).open(videos[name]) as reader:
            assert read_ids(reader.read(wanted)) == wanted.tolist()
            counts[skip] = (reader.frames_decoded, reader.seeks)
    assert counts[True][1] == counts[False][1]
    assert counts[True][0] < counts[False][0]


def test_skipping_with_frame_threads_returns_the_same_frames(videos):
    """Frame threads copy ``skip_frame`` from the user's context per packet, so it stays exact."""
    for name in ("h264_longgop", "hevc"):
        path = videos[name]
        reference = _plain_decode(path)
        with PyAVDecoder(threads=2).open(path) as reader:
            assert reader.skip_nonref
            for wanted in _index_sets(len(reference)):
                assert np.array_equal(reader.read(wanted).numpy(), reference[wanted])


def test_no_skipping_where_non_reference_is_not_exact(videos, hevc_temporal_layers, read_ids):
    """VP9 and MPEG-4 decoders read NONREF their own way; HEVC with temporal sub-layers may
    predict from a 'sub-layer non-reference' picture in a higher sub-layer."""
    for name in ("vp9_webm", "vp9_mp4", "mpeg4", "mpeg4_avi"):
        with PyAVDecoder().open(videos[name]) as reader:
            assert not reader.skip_nonref
    with PyAVDecoder().open(hevc_temporal_layers) as reader:
        assert not reader.skip_nonref
        wanted = [59, 1, 30, 31, 33]
        assert read_ids(reader.read(wanted)) == wanted
    with PyAVDecoder(skip_nonref=False).open(videos["h264_gop12"]) as reader:
        assert not reader.skip_nonref


def _hvcc(layers: int, sps_sub_layers_minus1: int) -> bytes:
    """A minimal hvcC record holding one SPS NAL unit."""
    header = bytearray(23)
    header[0] = 1
    header[21] = (layers << 3) | 0b111
    header[22] = 1
    sps = bytes([33 << 1, 1, (sps_sub_layers_minus1 << 1) | 1, 0x60])
    return bytes(header) + bytes([33, 0, 1]) + len(sps).to_bytes(2, "big") + sps


def test_hevc_sub_layer_count_is_read_from_the_parameter_sets():
    from actioncore.builtin.decoders.pyav import _hevc_single_sublayer

    assert _hevc_single_sublayer(_hvcc(1, 0))
    assert not _hevc_single_sublayer(_hvcc(2, 1))
    assert _hevc_single_sublayer(_hvcc(0, 0))
    assert not _hevc_single_sublayer(_hvcc(0, 2))
    sps = bytes([33 << 1, 1, 1, 0x60])
    assert _hevc_single_sublayer(b"\0\0\0\1" + bytes([32 << 1, 1, 0x0C]) + b"\0\0\1" + sps)
    assert not _hevc_single_sublayer(b"\0\0\1" + bytes([33 << 1, 1, 0b011, 0x60]))
    assert not _hevc_single_sublayer(b"")


def test_index_arrays_of_any_integer_type_and_shape(videos, read_ids):
    with PyAVDecoder().open(videos["vp9_webm"]) as reader:
        assert read_ids(reader.read(np.array([4, 9], dtype=np.int32))) == [4, 9]
        clips = np.array([[10, 12, 14], [40, 42, 44]])
        assert read_ids(reader.read(clips)) == clips.reshape(-1).tolist()
        assert reader.read([]).shape == (0, 48, 64, 3)
        with pytest.raises(TypeError):
            reader.read([1.5])


def test_faststart_mp4(faststart_mp4, read_ids):
    assert read_ids(read_frames(faststart_mp4, [59, 0, 30])) == [59, 0, 30]


def test_read_frames_on_a_video_and_a_path_object(videos, read_ids):
    frames = read_frames(str(videos["mpeg4"]), [3, 1, 4, 1, 5])
    assert frames.dtype == torch.uint8 and frames.shape == (5, 48, 64, 3)
    assert read_ids(frames) == [3, 1, 4, 1, 5]


# Frame folders


def test_frame_folder_reads_by_index(frame_folder, read_ids):
    with FrameFolderDecoder().open(frame_folder) as reader:
        assert reader.num_frames == 40
        assert (reader.height, reader.width, reader.channels) == (48, 64, 3)
        wanted = [39, 0, 17, 17, 5]
        frames = reader.read(wanted)
        assert frames.dtype == torch.uint8 and frames.shape == (5, 48, 64, 3)
        assert read_ids(frames) == wanted


def test_frame_folder_start_index_shifts_files(frame_folder, read_ids):
    """start_index 2 makes img_00002.jpg frame 0: one frame fewer, every index shifted."""
    with FrameFolderDecoder(start_index=2).open(frame_folder) as reader:
        assert reader.num_frames == 39
        assert read_ids(reader.read([0, 38])) == [1, 39]


def test_flow_folder_returns_x_and_y_as_two_channels(flow_folder, read_ids):
    with FrameFolderDecoder(filename_tmpl="flow_{}_{:05d}.jpg").open(flow_folder) as reader:
        assert reader.num_frames == 20 and reader.channels == 2
        frames = reader.read([19, 3])
        assert frames.shape == (2, 48, 64, 2)
        assert read_ids(frames) == [19, 3]
        assert read_ids(255 - frames[..., 1:]) == [19, 3]


def test_pil_backend_reads_the_same_frames(frame_folder, flow_folder, read_ids, monkeypatch):
    """PIL takes over where torchvision's deprecated image decoding is gone."""
    monkeypatch.setattr(frame_folder_module, "decode_image_file", frame_folder_module._decode_with_pil)
    with FrameFolderDecoder().open(frame_folder) as reader:
        assert read_ids(reader.read([39, 0, 7])) == [39, 0, 7]
    with FrameFolderDecoder(filename_tmpl="flow_{}_{:05d}.jpg").open(flow_folder) as reader:
        frames = reader.read([2, 11])
        assert read_ids(frames) == [2, 11] and read_ids(255 - frames[..., 1:]) == [2, 11]


def test_read_frames_on_a_folder(frame_folder, read_ids):
    assert read_ids(read_frames(frame_folder, [12, 2, 12])) == [12, 2, 12]


def test_bad_filename_templates_are_rejected():
    for template in ("img.jpg", "{}_{}_{:05d}.jpg", "img_{:05d}_{x}.jpg"):
        with pytest.raises(ValueError, match="filename_tmpl"):
            FrameFolderDecoder(filename_tmpl=template)


# Bad input: each raises DataError whose message names the file


def _assert_names(exc: pytest.ExceptionInfo[DataError], path: Path) -> None:
    assert str(path) in str(exc.value)
    assert exc.value.path is not None and str(path) in exc.value.path


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d, v: d / "missing.mp4", id="missing"),
        pytest.param(lambda d, v: _write(d / "empty.mp4", b""), id="zero-bytes"),
        pytest.param(
            lambda d, v: _write(d / "noise.mp4", np.random.default_rng(0).bytes(30000)),
            id="random-bytes",
        ),
        pytest.param(lambda d, v: _write(d / "notes.avi", b"not a video\n" * 50), id="text"),
        pytest.param(lambda d, v: _half(v["h264_longgop"], d / "half.mp4"), id="truncated-mp4"),
        pytest.param(lambda d, v: _half(v["h264_mkv"], d / "half.mkv"), id="truncated-mkv"),
        pytest.param(lambda d, v: _half(v["vp9_webm"], d / "half.webm"), id="truncated-webm"),
        pytest.param(lambda d, v: _half(v["mpeg4_avi"], d / "half.avi"), id="truncated-avi"),
        pytest.param(lambda d, v: d, id="a-folder"),
    ],
)
def test_bad_video_files_raise_data_error(make, videos, tmp_path):
    path = make(tmp_path, videos)
    with pytest.raises(DataError) as exc:
        with PyAVDecoder().open(path) as reader:
            reader.read(np.arange(reader.num_frames))
    _assert_names(exc, path)


def test_truncated_faststart_mp4_raises_data_error(faststart_mp4, tmp_path):
    path = _half(faststart_mp4, tmp_path / "half_faststart.mp4")
    with pytest.raises(DataError) as exc:
        with PyAVDecoder().open(path) as reader:
            reader.read(np.arange(reader.num_frames))
    _assert_names(exc, path)


@pytest.mark.parametrize("index", [-1, 120, 10_000])
def test_out_of_range_index_names_file_and_index(videos, index):
    path = videos["hevc"]
    with PyAVDecoder().open(path) as reader:
        with pytest.raises(DataError, match=rf"frame index {index}\b") as exc:
            reader.read([0, index])
    _assert_names(exc, path)


def test_frame_folder_errors(frame_folder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no frames here")
    for path in (empty, tmp_path / "missing"):
        with pytest.raises(DataError, match="frame folder|no frames") as exc:
            FrameFolderDecoder().open(path)
        _assert_names(exc, path)
    with FrameFolderDecoder().open(frame_folder) as reader:
        with pytest.raises(DataError, match="frame index 40") as exc:
            reader.read([40])
    _assert_names(exc, frame_folder)


@pytest.mark.parametrize("backend", ["_decode_with_torchvision", "_decode_with_pil"])
def test_corrupt_jpeg_in_a_folder_names_the_image(frame_folder, tmp_path, backend, monkeypatch):
    monkeypatch.setattr(frame_folder_module, "decode_image_file", getattr(frame_folder_module, backend))
    folder = tmp_path / "video"
    folder.mkdir()
    for name in ("img_00001.jpg", "img_00002.jpg"):
        (folder / name).write_bytes((frame_folder / name).read_bytes())
    broken = folder / "img_00002.jpg"
    broken.write_bytes(broken.read_bytes()[:200])
    with FrameFolderDecoder().open(folder) as reader:
        with pytest.raises(DataError) as exc:
            reader.read([0, 1])
    _assert_names(exc, broken)


def test_read_frames_errors_name_the_path(tmp_path):
    with pytest.raises(DataError) as exc:
        read_frames(tmp_path / "nope.mp4", [0])
    _assert_names(exc, tmp_path / "nope.mp4")


def test_reader_type_is_exported():
    assert issubclass(PyAVReader, VideoReader)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _half(source: Path, path: Path) -> Path:
    data = source.read_bytes()
    return _write(path, data[: len(data) // 2])
