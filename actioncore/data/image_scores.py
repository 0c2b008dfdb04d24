"""Image-score files: per-frame class probabilities of an image classifier, the targets of the
"kd" distillation head (SEED003 §4).

An ``.npz`` (never a pickle) with the arrays

| array | dtype, shape | holds |
| --- | --- | --- |
| ``videos`` | str ``[V]`` | video keys (:mod:`actioncore.data.video_keys`) |
| ``frame_offsets`` | int64 ``[V + 1]`` | rows of video v are ``frame_offsets[v]:frame_offsets[v + 1]`` |
| ``frame_index`` | int64 ``[F]`` | 0-based frame index of each row, increasing within a video |
| ``probs`` | float16 ``[F, C]`` | class probabilities of each row |
| ``classes`` | str ``[C]`` | class names, only when known |

Written by ``actioncore data image-scores`` and by ``actioncore data convert image_scores`` (the
original's pickled ``resnet18_prtrnd_preds.npy``); read with :class:`ImageScores`.

A file need not store every frame: video-data-aug's Kinetics files keep every 4th frame, and
``data image-scores --every K`` every K-th. :meth:`ImageScores.probs` answers a frame that is not
stored with the nearest stored frame at or below it. The original's fallback
(``(idx // 4) * 4 + 1`` on 1-based numbers, commit 1648a68) agrees except for 0-based frames
``4k + 3``, which it sends forward to ``4k + 4``; one rule for any stride, that never looks past the
frame asked for, is chosen here.

The writer stores the arrays uncompressed, so the reader memory-maps ``probs`` instead of
reading it: a UCF-101 file at every frame is ~3.7 GB, and DataLoader workers then share its pages.
"""
from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from ..errors import DataError
from .video_keys import find_key

__all__ = ["ImageScores", "ImageScoresWriter"]

_ARRAYS = ("videos", "frame_offsets", "frame_index", "probs")
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, fixed fields, file name length, extra length


class ImageScores:
    """Reads an image-score file (see the module docstring); malformed files raise :class:`DataError`.

    ``probs(key, frame_indices)`` gives float32 ``[len(frame_indices), C]``; ``classes`` is None
    when the file does not name them.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise DataError(f"{self.path}: no such image-score file", path=self.path)
        if not zipfile.is_zipfile(self.path):
            raise DataError(f"{self.path}: not an .npz image-score file (a video-data-aug .npy converts with "
                            "'actioncore data convert image_scores IN.npy OUT.npz --trust-pickle')", path=self.path)
        try:
            with np.load(self.path, allow_pickle=False) as npz:
                missing = [name for name in _ARRAYS if name not in npz.files]
                if missing:
                    raise DataError(f"{self.path}: not an image-score file: no {', '.join(missing)} array(s) "
                                    f"(it has {', '.join(npz.files) or 'none'})", path=self.path)
                arrays = {name: npz[name] for name in (*_ARRAYS, "classes") if name in npz.files and name != "probs"}
            self.probs_array = _probs_array(self.path)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise DataError(f"{self.path}: not a readable .npz image-score file: {exc}", path=self.path) from None
        self.videos: tuple[str, ...] = tuple(str(v) for v in arrays["videos"])
        self.frame_offsets = np.asarray(arrays["frame_offsets"], dtype=np.int64)
        self.frame_index = np.asarray(arrays["frame_index"], dtype=np.int64)
        self.classes: tuple[str, ...] | None = (tuple(str(c) for c in arrays["classes"])
                                                if "classes" in arrays else None)
        self._check()
        self._rows = {key: v for v, key in enumerate(self.videos)}

    def _check(self) -> None:
        v, f = len(self.videos), len(self.frame_index)
        offsets, probs = self.frame_offsets, self.probs_array
        problems = []
        if offsets.shape != (v + 1,) or offsets[0] != 0 or offsets[-1] != f or np.any(np.diff(offsets) < 0):
            problems.append(f"frame_offsets must be [V + 1] = [{v + 1}] non-decreasing from 0 to {f} rows")
        elif any(np.any(np.diff(self.frame_index[a:b]) <= 0) for a, b in zip(offsets[:-1], offsets[1:])):
            problems.append("frame_index must increase within each video")
        if probs.ndim != 2 or probs.shape[0] != f:
            problems.append(f"probs must be [F, C] with F = {f} rows, got {list(probs.shape)}")
        elif self.classes is not None and len(self.classes) != probs.shape[1]:
            problems.append(f"{len(self.classes)} classes for {probs.shape[1]} probability columns")
        if len(set(self.videos)) != v:
            problems.append("a video key appears twice")
        if problems:
            raise DataError(f"{self.path}: malformed image-score file: {'; '.join(problems)}", path=self.path)

    def __getstate__(self) -> dict:
        """Pickled (for spawned DataLoader workers) without the probabilities; they are mapped again."""
        state = dict(self.__dict__)
        if isinstance(self.probs_array, np.memmap):
            state["probs_array"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.probs_array is None:
            self.probs_array = _probs_array(self.path)

    @property
    def num_classes(self) -> int:
        return int(self.probs_array.shape[1])

    def __len__(self) -> int:
        return len(self.videos)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def frames(self, key: str) -> np.ndarray:
        """The stored 0-based frame indices of video ``key``."""
        v = self._row(key)
        return self.frame_index[self.frame_offsets[v]:self.frame_offsets[v + 1]]

    def probs(self, key: str, frame_indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 ``[len(frame_indices), C]``: each frame's row, or that of the nearest stored frame
        at or below it; a video not in the file, or a frame with no stored frame at or below it,
        raises :class:`DataError` naming the file and key."""
        v = self._row(key)
        start = int(self.frame_offsets[v])
        stored = self.frame_index[start:int(self.frame_offsets[v + 1])]
        wanted = np.asarray(frame_indices, dtype=np.int64).reshape(-1)
        slots = np.searchsorted(stored, wanted, side="right") - 1
        if wanted.size and slots.min() < 0:
            first = int(stored[0]) if stored.size else None
            bad = int(wanted[np.argmin(slots)])
            raise DataError(f"{self.path}: video {key!r}: no scores at or below frame {bad} "
                            f"(its first stored frame is {first})", path=self.path)
        return np.asarray(self.probs_array[start + slots], dtype=np.float32)

    def key_for(self, source: str | os.PathLike[str]) -> str:
        """The key this file uses for the video at ``source`` (see :mod:`actioncore.data.video_keys`)."""
        key = find_key(source, self._rows)
        if key is None:
            raise DataError(f"{self.path}: no scores for the video {os.fspath(source)!r} ({len(self.videos)} videos "
                            f"in the file, e.g. {', '.join(map(str, self.videos[:3]))})", path=self.path)
        return key

    def _row(self, key: str) -> int:
        try:
            return self._rows[key]
        except KeyError:
            raise DataError(f"{self.path}: no scores for video {key!r} ({len(self.videos)} videos in the file, "
                            f"keyed by a tail of their path)", path=self.path) from None

    def __repr__(self) -> str:
        return f"ImageScores({self.path!r}, {len(self.videos)} videos, {len(self.frame_index)} frames, " \
               f"{self.num_classes} classes)"


def _probs_array(path: str) -> np.ndarray:
    """``probs`` memory-mapped when stored uncompressed (as the writer stores it), else read."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("probs.npy")
        if info.compress_type != zipfile.ZIP_STORED:
            with archive.open(info) as member:
                return np.lib.format.read_array(member, allow_pickle=False)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
        if signature != b"PK\x03\x04":
            raise DataError(f"{path}: corrupt zip entry probs.npy", path=path)
        f.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(f)
        if dtype.hasobject:
            raise DataError(f"{path}: probs holds Python objects, not numbers", path=path)
        if not shape or 0 in shape:
            return np.zeros(shape, dtype=dtype)
        return np.memmap(path, dtype=dtype, mode="r", offset=f.tell(), shape=shape,
                         order="F" if fortran_order else "C")


class ImageScoresWriter:
    """Writes an image-score file one video at a time, without holding all probabilities in memory.

    Rows go to a temporary file beside the target; :meth:`close` (or leaving the ``with`` block)
    writes the ``.npz`` and moves it into place, so a failed run leaves no partial file.
    """

    def __init__(self, path: str | os.PathLike[str], *, num_classes: int,
                 classes: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        if classes is not None and len(classes) != num_classes:
            raise DataError(f"{self.path}: {len(classes)} class names for {num_classes} classes", path=str(self.path))
        self.num_classes = num_classes
        self.classes = None if classes is None else [str(c) for c in classes]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._rows_file = tempfile.TemporaryFile(dir=self.path.parent, prefix=".probs-")
        self._videos: dict[str, str] = {}
        self._counts: list[int] = []
        self._frames: list[np.ndarray] = []

    def add(self, key: str, frame_index: Sequence[int] | np.ndarray, probs: np.ndarray, *, source: str = "") -> None:
        """Store video ``key``'s rows (any frame order; sorted here). ``source`` names it in errors."""
        where = f"{self.path}: video {key!r}" + (f" ({source})" if source else "")
        if key in self._videos:
            raise DataError(f"{where}: the key is already taken by {self._videos[key] or 'an earlier video'}; "
                            "keys are file names without extension and must be unique", path=str(self.path))
        frames = np.asarray(frame_index, dtype=np.int64).reshape(-1)
        probs = np.asarray(probs)
        if probs.shape != (frames.size, self.num_classes):
            raise DataError(f"{where}: probs of shape {list(probs.shape)} for {frames.size} frames and "
                            f"{self.num_classes} classes", path=str(self.path))
        order = np.argsort(frames, kind="stable")
        frames = frames[order]
        if frames.size and (frames[0] < 0 or np.any(np.diff(frames) == 0)):
            raise DataError(f"{where}: frame indices must be distinct and >= 0", path=str(self.path))
        self._rows_file.write(np.ascontiguousarray(probs[order], dtype=np.float16).tobytes())
        self._videos[key] = source
        self._counts.append(frames.size)
        self._frames.append(frames)

    def close(self) -> Path:
        """Write the ``.npz`` (uncompressed) and return its path."""
        if self._rows_file.closed:
            return self.path
        rows = sum(self._counts)
        arrays = {"videos": np.array(list(self._videos), dtype=np.str_),
                  "frame_offsets": np.concatenate([[0], np.cumsum(self._counts, dtype=np.int64)]).astype(np.int64),
                  "frame_index": (np.concatenate(self._frames) if self._frames else np.zeros(0)).astype(np.int64)}
        if self.classes is not None:
            arrays["classes"] = np.array(self.classes, dtype=np.str_)
        partial = self.path.with_name(f".{self.path.name}.partial")
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in arrays.items():
                    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
                with archive.open("probs.npy", "w", force_zip64=True) as member:
                    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)),
                              "fortran_order": False, "shape": (rows, self.num_classes)}
                    np.lib.format.write_array_header_2_0(member, header)
                    self._rows_file.seek(0)
                    shutil.copyfileobj(self._rows_file, member, 16 << 20)
            os.replace(partial, self.path)
        finally:
            partial.unlink(missing_ok=True)
            self._rows_file.close()
        return self.path

    def abort(self) -> None:
        """Drop everything written so far; the target is left as it was."""
        self._rows_file.close()

    def __enter__(self) -> ImageScoresWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
