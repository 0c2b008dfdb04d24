"""Frame-accurate random access to video files with PyAV (FFmpeg).

Frame i is the i-th frame in presentation order. A demux-only pass (no decoding, a few ms)
lists every packet's pts and keyframe flag; sorted by pts these give the exact frame count and
the keyframes decoding can start from. A read splits the sorted wanted frames into runs, a new
run wherever a keyframe lies far enough past the previous wanted frame; each run seeks to the
keyframe at or before its first frame, decodes forward, converts only wanted frames to RGB, and
once the packet of its last wanted frame is in, drains the decoder instead of feeding it more.
Decoded frames are matched to indices by their pts, never by counting, so B-frame reordering and
inexact seeks cannot shift frames.

Frames nobody asked for are not decoded where that is exact: each packet goes to the decoder
with ``skip_frame = NONREF`` unless its own pts (the pts of the frame it encodes, whatever the
decode order) is wanted. FFmpeg's H.264 and HEVC decoders then drop non-reference pictures,
which no other picture predicts from, so every frame still decoded is bit-identical to a full
decode. With x264's defaults these are most B-frames: often a third to a half of all frames
(47% in ``benchmarks/data_vs_mmaction2.py``'s synthetic footage), which halves the decoding of
sparse TSN-style reads. Skipping is on for H.264, and for HEVC with a single temporal sub-layer
(a sub-layer non-reference picture may still be a reference for a higher sub-layer); other
codecs decode every frame up to the wanted ones.

The packet index is the one cost of a read that grows with the video's length (a few
microseconds per packet: about 0.1 s for an 18,000-frame file, against a few ms to read a clip),
so each decoder keeps the indexes of the files it opened, least recently used first out, up to
``index_cache_frames`` frames in all (8 bytes a frame), keyed by the file's path, inode, size
and modification time: a clip from a long untrimmed video then costs what one from a short
video does, from the second clip of that video on (``benchmarks/scaling.py long-video``).

A decoder that returns a frame without pts makes the reader count frames from the keyframe
seeked to instead, which needs every frame: it then stops skipping and draining early.

Where the packets cannot be trusted (a stream without pts, such as a raw ``.h264`` file, or a
decoder that emits frames the packet index does not predict) the reader counts frames in one
full decode, once, and indexes them by the decoded frames' pts; a stream without any pts is
then always decoded from the start.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator

import av
from av.video.reformatter import VideoReformatter
import numpy as np

from actioncore.errors import DataError

from ...data.reader import StreamBroken, VideoReader

__all__ = ["PyAVDecoder", "PyAVReader"]

_MOV_FAMILY = {"mov", "mp4"}
_MIN_SKIP = 4
"""Seek past a keyframe only when that skips at least this many frames (see :func:`_runs`)."""
_HEVC_SPS = 33


class PyAVDecoder:
    """Opens video files with PyAV; the default ``data.decoder``.

    ``threads > 1`` turns on FFmpeg's frame and slice threading. For training reads it does not pay:
    on 340x256 x264 clips, 2 threads made TSN 1x1x3 and SlowFast 32x2x1 reads 1.1-1.3x slower,
    with a core idle or not (``benchmarks/data_vs_mmaction2.py --decoder-threads 2``; each seek
    refills the threads' pipeline, and the frames skipped as non-reference leave them little to
    share); it may help long sequential decodes of large frames. Keep the default 1.
    ``skip_nonref = false`` decodes every frame up to the wanted ones, as a plain decoder does
    (the frames returned are the same either way; see the module docstring).
    ``index_cache_frames`` bounds the packet indexes kept between opens (frames in all, 8 bytes
    each; 0 keeps none). Each DataLoader worker holds its own copy of the decoder, so its own cache.
    """

    def __init__(self, *, threads: int = 1, skip_nonref: bool = True,
                 index_cache_frames: int = 2_000_000) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        if index_cache_frames < 0:
            raise ValueError(f"index_cache_frames must be 0 or more, got {index_cache_frames}")
        self.threads = threads
        self.skip_nonref = skip_nonref
        """Leave unwanted non-reference frames undecoded where the codec allows it exactly."""
        self.index_cache = _IndexCache(index_cache_frames)

    def open(self, path: str | os.PathLike[str]) -> PyAVReader:
        return PyAVReader(path, threads=self.threads, skip_nonref=self.skip_nonref,
                          index_cache=self.index_cache)

    def __repr__(self) -> str:
        return (f"PyAVDecoder(threads={self.threads}, skip_nonref={self.skip_nonref}, "
                f"index_cache_frames={self.index_cache.max_frames})")


class _IndexMismatch(Exception):
    """The decoder emitted frames the packet index does not predict."""


class _FramesWithoutPts(Exception):
    """The decoder returned a frame without pts: frames must be counted, so none may be left out."""


@dataclasses.dataclass(frozen=True)
class _FrameIndex:
    """Presentation-order timestamps of all frames and the keyframes decoding can start from."""

    pts: np.ndarray
    """int64 ``[num_frames]``, ascending: frame i has pts ``pts[i]``."""
    keyframes: np.ndarray
    """int64, ascending presentation indices of keyframes."""
    seek_ts: np.ndarray
    """int64, per keyframe: the timestamp to seek to so that the demuxer lands on it."""
    start_ts: int
    """The earliest timestamp in the stream: seeking there restarts from the first packet."""

    @classmethod
    def build(
        cls, pts: list[int | None], dts: list[int | None], key: list[bool], *, mov: bool = False
    ) -> _FrameIndex | None:
        """None when the timestamps cannot identify frames (missing or repeated pts).

        Demuxers seek by pts, but mp4/mov searches its dts-ordered sample table for the
        target minus a constant offset (the initial pts-dts shift). With B-frames in a
        variable-frame-rate file a keyframe's own pts can fall short of its dts plus that
        offset and land a GOP early, so for mov the target is the larger of the two.
        """
        if not pts or any(p is None for p in pts):
            return None
        pts_arr = np.asarray(pts, dtype=np.int64)
        order = np.argsort(pts_arr, kind="stable")
        sorted_pts = pts_arr[order]
        if np.any(np.diff(sorted_pts) == 0):
            return None
        dts_arr = np.asarray([p if d is None else d for p, d in zip(pts, dts)], dtype=np.int64)
        seek_ts = pts_arr
        if mov:
            seek_ts = np.maximum(pts_arr, dts_arr + (pts_arr.min() - dts_arr.min()))
        keyframes = np.flatnonzero(np.asarray(key, dtype=bool)[order]).astype(np.int64)
        return cls(
            pts=sorted_pts,
            keyframes=keyframes,
            seek_ts=seek_ts[order][keyframes],
            start_ts=int(min(pts_arr.min(), dts_arr.min())),
        )

    def __len__(self) -> int:
        return int(self.pts.size)

    def keyframe_at_or_before(self, index: int) -> int:
        """Presentation index of the last keyframe <= index, or -1 when there is none."""
        pos = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[pos]) if pos >= 0 else -1

    def seek_points(self, index: int) -> list[tuple[int, int]]:
        """``(keyframe index, seek timestamp)`` to try for reaching ``index``, best first.

        The keyframe at or before ``index``, the one before it, then the very start: later
        entries are fallbacks for demuxers whose seek lands after the keyframe asked for.
        """
        pos = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        points = [
            (int(self.keyframes[p]), int(self.seek_ts[p])) for p in (pos, pos - 1) if p >= 0
        ]
        points.append((0, self.start_ts))
        return list(dict.fromkeys(points))

    def index_of(self, pts: int) -> int:
        pos = int(np.searchsorted(self.pts, pts))
        if pos == self.pts.size or self.pts[pos] != pts:
            raise _IndexMismatch(f"decoded a frame with pts {pts} that no packet has")
        return pos


class _IndexCache:
    """Packet indexes of files opened before, least recently used dropped first once they hold
    more than ``max_frames`` frames together. A file is the same file while its path, device,
    inode, size and modification time are: a file rewritten in place gets a new index."""

    def __init__(self, max_frames: int) -> None:
        self.max_frames = max_frames
        self.frames = 0
        self.hits = 0
        self.entries: collections.OrderedDict[tuple, _FrameIndex] = collections.OrderedDict()

    @staticmethod
    def key(path: str) -> tuple:
        st = os.stat(path)
        return (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def get(self, key: tuple) -> _FrameIndex | None:
        index = self.entries.get(key)
        if index is not None:
            self.entries.move_to_end(key)
            self.hits += 1
        return index

    def put(self, key: tuple, index: _FrameIndex) -> None:
        if len(index) > self.max_frames or key in self.entries:
            return
        self.entries[key] = index
        self.frames += len(index)
        while self.frames > self.max_frames:
            _, dropped = self.entries.popitem(last=False)
            self.frames -= len(dropped)


@contextlib.contextmanager
def _as_data_error(path: str, doing: str) -> Iterator[None]:
    """Re-raise FFmpeg's errors, which name '<none>' or a C function, naming the file."""
    try:
        yield
    except av.FFmpegError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(f"{path}: cannot {doing}: {reason}", path=path) from exc


class PyAVReader(VideoReader):
    """An open video file; see the module docstring for how frames are found.

    ``streams``: :meth:`_stream_unique` hands decoded frames over one by one where the packet
    index is trusted (the common case), so the pipeline can convert and resample the first frames
    of a clip on one thread while the next ones are decoded on another (``actioncore.data.deferred``).

    ``frames_decoded`` and ``seeks`` count the decoder's work since opening (frames skipped as
    non-reference are not decoded and not counted); tests and benchmarks use them to check that
    reads decode only what they need.
    """

    streams = True

    def __init__(
        self, path: str | os.PathLike[str], *, threads: int = 1, skip_nonref: bool = True,
        index_cache: _IndexCache | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.threads = threads
        self.frames_decoded = 0
        self.seeks = 0
        self._reindexed = False
        self._counting = False
        """Set once the decoder returned a frame without pts: from then on reads decode every
        frame from the keyframe on and count them, with no skipping and no early drain."""
        _check_file(self.path)
        self._rgb = VideoReformatter()
        """One converter for every frame of the reader: ``VideoFrame.to_ndarray`` makes a new one,
        and a new swscale context, per frame (80 against 56 us a 340x256 frame)."""
        self._container, self._stream = self._open()
        self.skip_nonref = skip_nonref and _nonref_skip_is_exact(self._stream.codec_context)
        """Whether reads leave unwanted non-reference frames undecoded (see the module doc)."""
        try:
            with _as_data_error(self.path, "read the packet index"):
                self._index = self._cached_scan(index_cache)
                self.num_frames = (
                    len(self._index) if self._index is not None else self._count_by_decoding()
                )
            if self.num_frames == 0:
                raise DataError(f"{self.path}: the video stream has no frames", path=self.path)
            self.height = self._stream.codec_context.height
            self.width = self._stream.codec_context.width
            self.fps = self._average_fps()
        except BaseException:
            self._container.close()
            raise

    def close(self) -> None:
        self._container.close()

    def _open(self) -> tuple[av.container.InputContainer, av.VideoStream]:
        with _as_data_error(self.path, "open the file as a video"):
            container = av.open(self.path, metadata_errors="ignore")
        videos = [
            s
            for s in container.streams.video
            if not s.disposition & av.stream.Disposition.attached_pic
        ]
        if not videos:
            container.close()
            raise DataError(f"{self.path}: the file has no video stream", path=self.path)
        stream = videos[0]
        for other in container.streams:
            if other is not stream:
                other.discard = av.stream.Discard.all
        context = stream.codec_context
        problem = None
        if context is None:
            problem = "no decoder for its video codec"
        elif not context.width or not context.height:
            problem = "the video stream has no frame size"
        if problem:
            container.close()
            raise DataError(f"{self.path}: {problem}", path=self.path)
        if self.threads > 1:
            context.thread_type = "AUTO"
            context.thread_count = self.threads
        else:
            context.thread_count = 1
        return container, stream

    def _reopen(self) -> None:
        """Start again from the first packet: raw streams cannot seek."""
        self._container.close()
        self._container, self._stream = self._open()

    def _cached_scan(self, cache: _IndexCache | None) -> _FrameIndex | None:
        """The packet index, from ``cache`` when this file was scanned before; a fresh scan
        that gives one is kept (an index rebuilt by decoding is not: see the module doc)."""
        if cache is None or cache.max_frames == 0:
            return self._scan_packets()
        key = cache.key(self.path)
        index = cache.get(key)
        if index is None:
            index = self._scan_packets()
            if index is not None:
                cache.put(key, index)
        return index

    def _scan_packets(self) -> _FrameIndex | None:
        """Demux without decoding; None when the packets carry no usable pts."""
        pts: list[int | None] = []
        dts: list[int | None] = []
        key: list[bool] = []
        demuxed = 0
        end = None
        for packet in self._container.demux(self._stream):
            if packet.size == 0:
                continue
            demuxed += 1
            if packet.is_corrupt:
                raise DataError(
                    f"{self.path}: corrupt or truncated packet #{demuxed} in the video stream",
                    path=self.path,
                )
            if packet.is_discard:
                continue
            pts.append(packet.pts)
            dts.append(packet.dts)
            key.append(packet.is_keyframe)
            if packet.pts is not None:
                packet_end = packet.pts + (packet.duration or 0)
                end = packet_end if end is None else max(end, packet_end)
        self._check_complete(demuxed, pts, end)
        return _FrameIndex.build(pts, dts, key, mov=self._is_mov())

    def _is_mov(self) -> bool:
        return bool(_MOV_FAMILY & set(self._container.format.name.split(",")))

    def _check_complete(self, demuxed: int, pts: list[int | None], end: int | None) -> None:
        """Catch files cut short, which demuxers read as a shorter video without an error.

        mp4 and mov state their sample count in the header. Otherwise the stream's declared
        duration (or the file's, when it holds nothing else) must be covered by the packets'
        timestamps to within a second or 10%.
        """
        stream, container = self._stream, self._container
        if self._is_mov() and stream.frames > demuxed:
            raise DataError(
                f"{self.path}: truncated file: the header lists {stream.frames} video frames, "
                f"only {demuxed} are present",
                path=self.path,
            )
        time_base = stream.time_base
        if end is None or not time_base:
            return
        if stream.duration:
            declared_s = float(stream.duration * time_base)
        elif len(container.streams) == 1 and container.duration:
            declared_s = container.duration / av.time_base
        else:
            return
        start = min(p for p in pts if p is not None)
        covered_s = float((end - start) * time_base)
        if declared_s - covered_s > max(1.0, 0.1 * declared_s):
            raise DataError(
                f"{self.path}: truncated file: its frames cover {covered_s:.2f} s of the "
                f"declared {declared_s:.2f} s",
                path=self.path,
            )

    def _count_by_decoding(self) -> int:
        """Frame count from a full decode; also re-indexes by the decoded frames' pts."""
        self._reopen()
        pts: list[int | None] = []
        dts: list[int | None] = []
        key: list[bool] = []
        for frame in self._container.decode(self._stream):
            self.frames_decoded += 1
            pts.append(frame.pts)
            dts.append(frame.dts)
            key.append(frame.key_frame)
        self._index = _FrameIndex.build(pts, dts, key, mov=self._is_mov())
        self._reindexed = True
        return len(pts)

    def _average_fps(self) -> float:
        rate = self._stream.average_rate or self._stream.guessed_rate
        if rate:
            return float(rate)
        index, time_base = self._index, self._stream.time_base
        if index is not None and len(index) > 1 and time_base:
            span = float((index.pts[-1] - index.pts[0]) * time_base)
            if span > 0:
                return (len(index) - 1) / span
        return math.nan

    def _read_unique(self, indices: np.ndarray) -> np.ndarray:
        with _as_data_error(self.path, "decode"):
            try:
                try:
                    return self._gather(indices)
                except _FramesWithoutPts:
                    self._counting = True
                    return self._gather(indices)
            except _IndexMismatch as exc:
                if self._reindexed:
                    raise DataError(f"{self.path}: cannot decode: {exc}", path=self.path) from exc
            self.num_frames = self._count_by_decoding()
            self._check_indices(indices)
            try:
                return self._gather(indices)
            except _IndexMismatch as exc:
                raise DataError(f"{self.path}: cannot decode: {exc}", path=self.path) from exc

    def _gather(self, indices: np.ndarray) -> np.ndarray:
        if self._index is None:
            return self._gather_from_start(indices)
        return self._gather_seeking(indices, self._index)

    def _stream_unique(self, indices: np.ndarray) -> Iterator[av.VideoFrame | np.ndarray]:
        if self._index is None or self._reindexed or self._counting:
            yield from super()._stream_unique(indices)
            return
        try:
            with _as_data_error(self.path, "decode"):
                yield from self._seeking(indices, self._index)
        except (_FramesWithoutPts, _IndexMismatch) as exc:
            raise StreamBroken(str(exc)) from exc

    def _finish(self, frame: av.VideoFrame | np.ndarray) -> np.ndarray:
        # Arrays come from the base class's whole-clip read, where the index is not trusted.
        return frame if isinstance(frame, np.ndarray) else self._to_rgb(frame)

    def _gather_seeking(self, indices: np.ndarray, index: _FrameIndex) -> np.ndarray:
        out = np.empty((indices.size, self.height, self.width, 3), dtype=np.uint8)
        for slot, frame in enumerate(self._seeking(indices, index)):
            out[slot] = self._to_rgb(frame)
        return out

    def _seeking(self, indices: np.ndarray, index: _FrameIndex) -> Iterator[av.VideoFrame]:
        """The decoded frames of ``indices`` in order, run by run (see :func:`_runs`)."""
        targets = indices.tolist()
        # Skipping relies on packets and frames sharing pts; a re-index by decoded pts says not.
        skip = self.skip_nonref and not self._reindexed and not self._counting
        for first, stop in _runs(targets, index):
            run = targets[first:stop]
            frames = self._frames_reaching(run, index, skip)
            try:
                slot = first
                for position, frame in frames:
                    if position < targets[slot]:
                        continue
                    if position > targets[slot]:
                        break
                    yield frame
                    slot += 1
                    if slot == stop:
                        break
            finally:
                frames.close()
            if slot < stop:
                raise _IndexMismatch(f"the decoder never produced frame {targets[slot]}")

    def _frames_reaching(
        self, run: list[int], index: _FrameIndex, skip: bool
    ) -> Iterator[tuple[int, av.VideoFrame]]:
        """Decoded ``(index, frame)`` for ``run`` (sorted frame indices), from a seek point whose
        first frame is at or before ``run[0]``."""
        target = run[0]
        wanted = {int(index.pts[i]) for i in run}
        for keyframe, ts in index.seek_points(target):
            frames = self._decode_after_seek(ts, keyframe, index, wanted, skip)
            first = next(frames, None)
            if first is not None and first[0] <= target:
                yield first
                yield from frames
                return
            frames.close()
        raise _IndexMismatch(f"no seek point lets the decoder reach frame {target}")

    def _decode_after_seek(
        self, ts: int, keyframe: int, index: _FrameIndex, wanted: set[int], skip: bool
    ) -> Iterator[tuple[int, av.VideoFrame]]:
        """Frames after seeking to ``ts``, until every packet whose pts is ``wanted`` is decoded.

        With ``skip`` each other packet is decoded with ``skip_frame = NONREF``. Once the last
        wanted packet is in, the decoder is drained rather than fed the packets after it, which
        leaves out the frames that follow it in decode order but precede it in presentation.
        Both need frames with pts: a frame without one raises :class:`_FramesWithoutPts`, unless
        the reader is counting (``_counting``), where every frame is decoded and a frame without
        pts counts on from ``keyframe``.
        """
        self._container.seek(ts, stream=self._stream, backward=True, any_frame=False)
        self.seeks += 1
        context = self._stream.codec_context
        pending = set(wanted)
        mode = "DEFAULT"
        following = keyframe
        try:
            for packet in self._container.demux(self._stream):
                pts = packet.pts
                if skip:
                    want = pts is None or pts in wanted
                    if want != (mode == "DEFAULT"):
                        mode = "DEFAULT" if want else "NONREF"
                        context.skip_frame = mode
                pending.discard(pts)
                frames = self._decode_packet(packet)
                drain = not pending and packet.size > 0 and not self._counting
                if drain:
                    # Everything wanted is in the decoder: take its delayed frames out
                    # instead of decoding more packets (the next seek resets it).
                    frames = [*frames, *self._decode_packet(None)]
                for frame in frames:
                    self.frames_decoded += 1
                    if frame.pts is not None:
                        position = index.index_of(frame.pts)
                    elif not self._counting:
                        raise _FramesWithoutPts
                    else:
                        position = following
                    following = position + 1
                    yield position, frame
                if drain:
                    return
        finally:
            if mode != "DEFAULT":
                context.skip_frame = "DEFAULT"

    def _decode_packet(self, packet: av.Packet | None) -> list[av.VideoFrame]:
        """The frames the decoder returns for ``packet``; None drains it."""
        return self._stream.codec_context.decode(packet)

    def _gather_from_start(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((indices.size, self.height, self.width, 3), dtype=np.uint8)
        self._reopen()
        wanted = indices.tolist()
        slot = 0
        for position, frame in enumerate(self._container.decode(self._stream)):
            self.frames_decoded += 1
            if position == wanted[slot]:
                out[slot] = self._to_rgb(frame)
                slot += 1
                if slot == len(wanted):
                    return out
        raise _IndexMismatch(f"the stream ended before frame {wanted[slot]}")

    def _to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        """RGB at the stream's size. One swscale thread: its default (automatic) threading
        doubled the cost of converting a 340x256 frame and oversubscribes DataLoader workers."""
        return self._rgb.reformat(frame, format="rgb24", width=self.width, height=self.height,
                                  threads=1).to_ndarray()


def _check_file(path: str) -> None:
    """Fail early, with a plain message, on what FFmpeg would report obscurely."""
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file", path=path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: not a regular file", path=path)
    if os.path.getsize(path) == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)", path=path)


def _runs(targets: list[int], index: _FrameIndex) -> list[tuple[int, int]]:
    """``[first, stop)`` slices of sorted ``targets`` that one seek each decodes.

    A new run starts where a keyframe lies far enough past the previous target: decoding from
    that keyframe then skips every frame in between, where decoding on would still decode their
    reference frames. Runs are drained at their end, so a seek costs no re-decoded read-ahead.
    """
    runs = []
    first = 0
    for i in range(1, len(targets)):
        if index.keyframe_at_or_before(targets[i]) - (targets[i - 1] + 1) >= _MIN_SKIP:
            runs.append((first, i))
            first = i
    runs.append((first, len(targets)))
    return runs


def _nonref_skip_is_exact(context: av.codec.context.CodecContext) -> bool:
    """Whether FFmpeg's ``skip_frame = NONREF`` drops only pictures nothing predicts from.

    H.264's ``nal_ref_idc == 0`` marks exactly those. HEVC's "sub-layer non-reference" pictures
    may still be references for a higher temporal sub-layer, so HEVC qualifies only with one.
    Other decoders interpret NONREF in their own ways (or not at all): no skipping there.
    """
    name = context.codec.name
    if name == "h264":
        return True
    if name == "hevc":
        return _hevc_single_sublayer(bytes(context.extradata or b""))
    return False


def _hevc_single_sublayer(extradata: bytes) -> bool:
    """True when the stream's parameter sets declare one temporal sub-layer.

    ``extradata`` is an ``hvcC`` record (mp4, mkv), whose ``numTemporalLayers`` says so, or
    Annex B parameter sets; otherwise every SPS must have ``sps_max_sub_layers_minus1 == 0``.
    """
    if len(extradata) >= 23 and extradata[0] == 1:
        layers = (extradata[21] >> 3) & 7
        if layers:
            return layers == 1
        sps = [nal for nal in _hvcc_nal_units(extradata) if (nal[0] >> 1) & 0x3F == _HEVC_SPS]
    else:
        sps = [nal for nal in _annexb_nal_units(extradata) if (nal[0] >> 1) & 0x3F == _HEVC_SPS]
    return bool(sps) and all(len(nal) > 2 and (nal[2] >> 1) & 7 == 0 for nal in sps)


def _hvcc_nal_units(record: bytes) -> list[bytes]:
    units, pos = [], 23
    try:
        for _ in range(record[22]):
            count = int.from_bytes(record[pos + 1:pos + 3], "big")
            pos += 3
            for _ in range(count):
                size = int.from_bytes(record[pos:pos + 2], "big")
                units.append(record[pos + 2:pos + 2 + size])
                pos += 2 + size
    except IndexError:
        pass
    return [unit for unit in units if len(unit) >= 2]


def _annexb_nal_units(data: bytes) -> list[bytes]:
    return [unit for unit in data.split(b"\0\0\1")[1:] if len(unit) >= 2]
