"""The ``image`` decoder: one image file read as a one-frame video.

Web images in OmniSource-style multi-source training (MMAction2 0.24's ``ImageDataset`` with
its ``ImageDecode`` step) go through the same pipeline steps as video clips: sampling every
index of a one-frame "video" gives the image, repeated where a sampler asks for more frames.
"""
from __future__ import annotations

import math
import os

import numpy as np

from ...data.reader import VideoReader
from .frame_folder import decode_image_file


class ImageDecoder:
    """Opens image files (JPEG, PNG, ...); ``decoder = "image"`` (the ``image_list`` default)."""

    def open(self, path: str | os.PathLike[str]) -> ImageReader:
        return ImageReader(path)

    def __repr__(self) -> str:
        return "ImageDecoder()"


class ImageReader(VideoReader):
    """One decoded image as frame 0; ``fps`` is NaN. The file is decoded once, when opened, so a
    broken image fails naming the file before any sampling."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.image = decode_image_file(self.path, gray=False)
        self.height, self.width = self.image.shape[:2]
        self.num_frames = 1
        self.fps = math.nan

    def close(self) -> None:
        """Nothing stays open."""

    def _read_unique(self, indices: np.ndarray) -> np.ndarray:
        return self.image[None]
