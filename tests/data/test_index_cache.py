"""The PyAV decoder's packet-index cache: a file's index is built once per decoder, reused while
the file is unchanged, rebuilt when it changes, and bounded in frames (least recently used out)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from actioncore.builtin.decoders import PyAVDecoder, PyAVReader

from .conftest import VIDEO_CASES, encode_video


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths whose packets were scanned (demuxed for the index), in order."""
    seen: list[str] = []
    original = PyAVReader._scan_packets

    def counting(self):
        seen.append(self.path)
        return original(self)

    monkeypatch.setattr(PyAVReader, "_scan_packets", counting)
    return seen


def _read(decoder: PyAVDecoder, path: Path, wanted: list[int], read_ids) -> tuple[int, list[int]]:
    with decoder.open(path) as reader:
        return reader.num_frames, read_ids(reader.read(wanted))


def test_a_file_is_scanned_once_and_reads_stay_exact(videos, scans, read_ids):
    decoder = PyAVDecoder()
    for name in ("h264_longgop", "h264_vfr", "mpeg4_avi"):
        path, frames = videos[name], VIDEO_CASES[name].frames
        for wanted in ([0, frames // 2], [frames - 1, 3], [7]):
            assert _read(decoder, path, wanted, read_ids) == (frames, wanted)
    assert scans == [str(videos[n]) for n in ("h264_longgop", "h264_vfr", "mpeg4_avi")]
    assert decoder.index_cache.hits == 6


def test_a_changed_file_is_scanned_again(videos, tmp_path, scans, read_ids):
    path = tmp_path / "clip.mp4"
    shutil.copy(videos["h264_gop12"], path)
    decoder = PyAVDecoder()
    assert _read(decoder, path, [100], read_ids) == (120, [100])
    encode_video(path, VIDEO_CASES["h264_gop12"], frames=50)  # same path, rewritten shorter
    assert _read(decoder, path, [49], read_ids) == (50, [49])
    assert len(scans) == 2


def test_the_cache_is_bounded_in_frames_least_recently_used_first_out(videos, scans, read_ids):
    longgop, gop12, mkv = videos["h264_longgop"], videos["h264_gop12"], videos["h264_mkv"]
    decoder = PyAVDecoder(index_cache_frames=300 + 120)  # room for longgop (300) + gop12 (120)
    for path in (longgop, gop12, longgop, mkv, longgop, gop12):
        _read(decoder, path, [0], read_ids)
    # mkv (110) pushed out gop12, the least recently used; longgop stayed
    assert scans == [str(p) for p in (longgop, gop12, mkv, gop12)]
    assert decoder.index_cache.frames <= 420
    uncached = PyAVDecoder(index_cache_frames=0)
    for _ in range(2):
        assert _read(uncached, longgop, [1], read_ids) == (300, [1])
    assert scans[4:] == [str(longgop)] * 2  # 0 keeps nothing


def test_index_cache_frames_must_not_be_negative():
    with pytest.raises(ValueError, match="index_cache_frames must be 0 or more"):
        PyAVDecoder(index_cache_frames=-1)
