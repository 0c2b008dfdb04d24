"""MMAction2 raw-frame folders: one image per frame, ``img_00001.jpg``, ``img_00002.jpg``, ...

The file name template is the whole format description. A template with one field names RGB
frames; one with two fields (MMAction2's ``{}_{:05d}.jpg``, denseflow's ``flow_{}_{:05d}.jpg``)
names optical-flow frames, the first field being the direction ``x`` or ``y``, and a read returns
the two grayscale images as the two channels of each frame.

Images are decoded with ``torchvision.io.decode_image`` (libjpeg-turbo): on 340x256 JPEGs it took
0.29 ms per frame against 0.37 ms for PIL and 0.51 ms for pims on the development machine.
torchvision 0.29 deprecates its image codecs; where they are gone, PIL takes over.
"""
from __future__ import annotations

import math
import os
import string

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

try:
    from torchvision.io import ImageReadMode, decode_image
except ImportError:
    decode_image = None

from actioncore.errors import DataError

from ...data.reader import VideoReader

__all__ = ["FrameFolderDecoder", "FrameFolderReader"]

_FLOW_DIRECTIONS = ("x", "y")


class FrameFolderDecoder:
    """Opens folders of frame images; ``data.decoder = "frame_folder"``.

    Frame i of a read is the file ``filename_tmpl.format(start_index + i)``.
    """

    def __init__(self, *, filename_tmpl: str = "img_{:05d}.jpg", start_index: int = 1) -> None:
        fields = [f for _, f, _, _ in string.Formatter().parse(filename_tmpl) if f is not None]
        if len(fields) not in (1, 2):
            raise ValueError(
                f"filename_tmpl {filename_tmpl!r} must have one field (the frame number) or two "
                "(flow direction, frame number)"
            )
        try:
            _format_names(filename_tmpl, len(fields) == 2, start_index)
        except (IndexError, KeyError, ValueError) as exc:
            raise ValueError(f"filename_tmpl {filename_tmpl!r} cannot be formatted: {exc}") from exc
        if start_index < 0:
            raise ValueError(f"start_index must be >= 0, got {start_index}")
        self.filename_tmpl = filename_tmpl
        self.start_index = start_index
        self.flow = len(fields) == 2

    def open(self, path: str | os.PathLike[str]) -> FrameFolderReader:
        return FrameFolderReader(
            path, filename_tmpl=self.filename_tmpl, start_index=self.start_index, flow=self.flow
        )

    def __repr__(self) -> str:
        return (
            f"FrameFolderDecoder(filename_tmpl={self.filename_tmpl!r}, "
            f"start_index={self.start_index})"
        )


def _format_names(template: str, flow: bool, number: int) -> tuple[str, ...]:
    """The file names that hold one frame: one for RGB, x then y for flow."""
    if flow:
        return tuple(template.format(d, number) for d in _FLOW_DIRECTIONS)
    return (template.format(number),)


class FrameFolderReader(VideoReader):
    """An open frame folder. ``fps`` is NaN: image folders do not record a frame rate."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        filename_tmpl: str = "img_{:05d}.jpg",
        start_index: int = 1,
        flow: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self.filename_tmpl = filename_tmpl
        self.start_index = start_index
        self.flow = flow
        self.channels = 2 if flow else 3
        self.fps = math.nan
        self.num_frames = self._count_frames()
        self.width, self.height = self._frame_size()

    def close(self) -> None:
        """Nothing stays open between reads."""

    def _names(self, index: int) -> tuple[str, ...]:
        return _format_names(self.filename_tmpl, self.flow, self.start_index + index)

    def missing_frame(self, index: int) -> str | None:
        """The first of frame ``index``'s files (x, y for flow) that the folder lacks."""
        return next((name for name in self._names(index)
                     if not os.path.exists(os.path.join(self.path, name))), None)

    def _count_frames(self) -> int:
        """Consecutive frames present from ``start_index`` on, from one directory listing."""
        try:
            present = set(os.listdir(self.path))
        except FileNotFoundError:
            raise DataError(f"{self.path}: no such frame folder", path=self.path) from None
        except NotADirectoryError:
            raise DataError(f"{self.path}: not a folder", path=self.path) from None
        except OSError as exc:
            raise DataError(f"{self.path}: cannot list: {exc.strerror}", path=self.path) from exc
        count = 0
        while all(name in present for name in self._names(count)):
            count += 1
        if count:
            self._check_no_gap(present, count)
        if count == 0:
            first = " and ".join(self._names(0))
            raise DataError(
                f"{self.path}: no frames: expected {first} "
                f"(filename_tmpl {self.filename_tmpl!r}, start_index {self.start_index})",
                path=self.path,
            )
        return count

    def _check_no_gap(self, present: set[str], count: int) -> None:
        """A frame after the first missing one means the folder lost files (an interrupted copy
        or extraction, a flow pair missing its x or y image): reading it as ``count`` frames would
        silently drop the rest, so name the first missing file instead."""
        # a frame number beyond ``count + len(present)`` would need more files than the folder holds
        for index in range(count, count + len(present) + 1):
            names = self._names(index)
            if any(name in present for name in names):
                missing = next(name for name in self._names(count) if name not in present)
                raise DataError(
                    f"{self.path}: missing frame file {missing} "
                    f"(frames {self.start_index}..{self.start_index + count - 1} are there, "
                    f"and {names[0] if names[0] in present else names[-1]} after it)",
                    path=os.path.join(self.path, missing),
                )

    def _frame_size(self) -> tuple[int, int]:
        """Width and height from the first image's header, without decoding it."""
        file = os.path.join(self.path, self._names(0)[0])
        try:
            with Image.open(file) as image:
                return image.size
        except (OSError, UnidentifiedImageError) as exc:
            raise DataError(f"{file}: not a readable image: {exc}", path=file) from exc

    def _read_unique(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((indices.size, self.height, self.width, self.channels), dtype=np.uint8)
        for slot, index in enumerate(indices.tolist()):
            for channel, name in enumerate(self._names(index)):
                file = os.path.join(self.path, name)
                image = decode_image_file(file, gray=self.flow)
                if image.shape[:2] != (self.height, self.width):
                    raise DataError(
                        f"{file}: image is {image.shape[1]}x{image.shape[0]}, the folder's first "
                        f"frame is {self.width}x{self.height}",
                        path=file,
                    )
                if self.flow:
                    out[slot, :, :, channel] = image[..., 0]
                else:
                    out[slot] = image
        return out


def _decode_with_torchvision(file: str, *, gray: bool) -> np.ndarray:
    """uint8 ``[H, W, 1 or 3]``; any failure raises DataError naming the file."""
    try:
        data = torch.from_numpy(np.fromfile(file, dtype=np.uint8))
    except OSError as exc:
        raise DataError(f"{file}: cannot read: {exc.strerror}", path=file) from exc
    try:
        image = decode_image(data, mode=ImageReadMode.GRAY if gray else ImageReadMode.RGB)
    except RuntimeError as exc:
        reason = str(exc).rsplit(", ", 1)[-1]
        raise DataError(f"{file}: not a readable image: {reason}", path=file) from exc
    return image.permute(1, 2, 0).numpy()


def _decode_with_pil(file: str, *, gray: bool) -> np.ndarray:
    """uint8 ``[H, W, 1 or 3]``; any failure raises DataError naming the file."""
    try:
        with Image.open(file) as image:
            array = np.asarray(image.convert("L" if gray else "RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"{file}: not a readable image: {exc}", path=file) from exc
    return array[..., None] if gray else array


decode_image_file = _decode_with_pil if decode_image is None else _decode_with_torchvision
"""uint8 ``[H, W, 1 or 3]`` of one image file (``gray``: one channel); DataError naming a bad file."""
