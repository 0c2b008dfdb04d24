"""The confusion matrix as an image for TensorBoard, drawn with Pillow and a real font.

Pillow (>= 10.1, built with FreeType as its wheels are) ships a scalable default font, so class
names and counts are legible at any size without a font file on the machine.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_MAX_LABEL_CHARS = 32
_LABELLED_CELL = 8  # the smallest cell that names are drawn beside (an 8 px font)
_MAX_NAMED_CLASSES = 128  # beyond this the default cell is not enlarged to fit names
_COUNT_CELL = 16  # the smallest cell that its count is written in
_MAX_FONT = 14
_PAD = 3
_INK = (0, 0, 0)

# Viridis, sampled at 9 evenly spaced points and interpolated linearly.
_VIRIDIS = np.array([
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
], dtype=np.float64)


def _colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB (viridis)."""
    x = np.clip(values, 0.0, 1.0) * (len(_VIRIDIS) - 1)
    lo = np.minimum(np.floor(x).astype(np.int64), len(_VIRIDIS) - 2)
    frac = (x - lo)[..., None]
    rgb = _VIRIDIS[lo] * (1.0 - frac) + _VIRIDIS[lo + 1] * frac
    return np.round(rgb).astype(np.uint8)


def _font(size: int) -> Any:
    return ImageFont.load_default(size=size)


def _check(matrix: Any, class_names: Sequence[str] | None, cell_size: int | None) -> tuple[np.ndarray, list[str] | None]:
    name = "render_confusion_matrix"
    if hasattr(matrix, "detach") and hasattr(matrix, "cpu"):  # torch.Tensor, without importing torch
        matrix = matrix.detach().cpu().numpy()
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"{name}: matrix must be square [C, C] with C >= 1, got shape {list(m.shape)}")
    if m.dtype.kind not in "biuf":
        raise ValueError(f"{name}: matrix must hold numbers, got dtype {m.dtype}")
    m = m.astype(np.float64)
    if not np.isfinite(m).all() or (m < 0).any():
        raise ValueError(f"{name}: matrix entries must be finite and >= 0")
    names = None
    if class_names is not None:
        names = [str(n) for n in class_names]
        if len(names) != m.shape[0]:
            raise ValueError(f"{name}: got {len(names)} class names for a {m.shape[0]}x{m.shape[0]} matrix")
    if cell_size is not None and (isinstance(cell_size, bool) or not isinstance(cell_size, (int, np.integer))
                                  or cell_size < 1):
        raise ValueError(f"{name}: cell_size must be an integer >= 1, got {cell_size!r}")
    return m, names


def _write_counts(heat: Image.Image, matrix: np.ndarray, normalised: np.ndarray, cell: int) -> None:
    """Each cell's count, centred, white on the dark half of the colour map and black on the light."""
    font = _font(min(_MAX_FONT, cell // 2))
    draw = ImageDraw.Draw(heat)
    for (i, j), count in np.ndenumerate(matrix):
        text = f"{count:g}"
        if draw.textlength(text, font=font) > cell - 2:
            continue
        colour = (255, 255, 255) if normalised[i, j] < 0.6 else _INK
        draw.text((j * cell + cell / 2, i * cell + cell / 2), text, fill=colour, font=font, anchor="mm")


def _rotated_text(text: str, font: Any) -> Image.Image:
    """``text`` as an ``L`` mask turned to read bottom-up (column labels and the y title)."""
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(1, right), max(1, bottom)), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=font)
    return mask.rotate(90, expand=True)


def render_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str] | None = None, *,
                            cell_size: int | None = None) -> np.ndarray:
    """Draw a confusion matrix as an RGB ``uint8`` image ``[H, W, 3]`` for TensorBoard.

    Each row is normalised to sum to 1 (a row without samples stays 0) and drawn as a viridis
    heat map, one ``cell_size`` square per entry: row = true class (top to bottom), column =
    predicted class (left to right). ``cell_size`` defaults to ``clip(256 // C, 4, 32)``, raised
    to 8 when ``class_names`` are given for at most 128 classes. A cell of 16 px or more shows
    its count.

    With ``class_names`` and cells of at least 8 px, the names (at most 32 characters) are written
    left of the rows and, reading bottom-up, above the columns, under the axis titles "true" and
    "predicted", in Pillow's scalable font sized to the cell (8 to 14 px); the heat map then sits
    in the bottom-right corner of a white canvas. Otherwise the image is exactly
    ``[C * cell, C * cell, 3]``, which keeps it small enough for TensorBoard.
    """
    m, names = _check(matrix, class_names, cell_size)
    c = m.shape[0]
    if cell_size is None:
        cell = int(np.clip(256 // c, 4, 32))
        if names is not None and c <= _MAX_NAMED_CLASSES:
            cell = max(cell, _LABELLED_CELL)
    else:
        cell = int(cell_size)
    row_sum = m.sum(axis=1, keepdims=True)
    normalised = np.divide(m, row_sum, out=np.zeros_like(m), where=row_sum > 0)
    heat = Image.fromarray(np.repeat(np.repeat(_colormap(normalised), cell, axis=0), cell, axis=1))
    if cell >= _COUNT_CELL:
        _write_counts(heat, m, normalised, cell)
    if names is None or cell < _LABELLED_CELL:
        return np.asarray(heat).copy()

    font = _font(min(_MAX_FONT, cell))
    title_font = _font(_MAX_FONT)
    labels = [n[:_MAX_LABEL_CHARS] for n in names]
    longest = math.ceil(max(font.getlength(n) for n in labels))
    title_band = title_font.getbbox("Hg")[3] + 2 * _PAD
    offset = title_band + longest + 2 * _PAD  # left and top gutter
    canvas = Image.new("RGB", (offset + c * cell, offset + c * cell), (255, 255, 255))
    canvas.paste(heat, (offset, offset))
    draw = ImageDraw.Draw(canvas)
    for i, label in enumerate(labels):
        centre = offset + i * cell + cell / 2
        draw.text((offset - _PAD, centre), label, fill=_INK, font=font, anchor="rm")  # row, right-aligned
        mask = _rotated_text(label, font)  # column, bottom-aligned on the matrix
        canvas.paste(_INK, (round(centre - mask.width / 2), offset - _PAD - mask.height), mask)
    draw.text((offset + c * cell / 2, _PAD), "predicted", fill=_INK, font=title_font, anchor="mt")
    title = _rotated_text("true", title_font)
    canvas.paste(_INK, (_PAD, round(offset + c * cell / 2 - title.height / 2)), title)
    return np.asarray(canvas).copy()


__all__ = ["render_confusion_matrix"]
