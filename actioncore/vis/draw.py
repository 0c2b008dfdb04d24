"""Pillow drawing on RGB frames: label panels, boxes, skeletons and heat maps, one look for all tasks.

Text uses a real scalable font: DejaVu Sans when the system has it, else the one Pillow ships
(``ImageFont.load_default(size=...)``, Pillow >= 10.1). Sizes scale with the frame's short side,
so a 64 px test clip and a 1080p video get legible labels alike.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45")
"""Distinct colours for boxes and persons (Sasha Trubetskoy's list), cycled."""
_FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@functools.lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    """A TrueType font of ``size`` pixels: DejaVu Sans if found, else Pillow's bundled default."""
    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def text_size(height: int, width: int) -> int:
    """Font size for a frame: 1/18 of the short side, at least 9 px."""
    return max(9, round(min(height, width) / 18))


def prediction_lines(predictions: Sequence[dict], *, topk: int | None = None) -> list[str]:
    """``{label, score, name?}`` rows as ``"name 0.87"`` lines (the label number without a name)."""
    rows = predictions if topk is None else predictions[:topk]
    return [f"{p.get('name', p.get('label'))} {float(p['score']):.2f}" for p in rows]


def draw_label_panel(image: Image.Image, lines: Sequence[str], *, corner: tuple[int, int] = (0, 0),
                     size: int | None = None, fill: str = "white", background: tuple[int, ...] = (0, 0, 0, 160)) -> tuple[int, int, int, int]:
    """Lines of text on a translucent dark panel at ``corner``; returns the panel's box (x0, y0, x1, y1).

    ``image`` is changed in place (RGB); the panel stays inside the frame.
    """
    size = size or text_size(image.height, image.width)
    face = font(size)
    pad = max(2, size // 4)
    widths = [face.getbbox(line)[2] for line in lines] or [0]
    line_h = size + pad
    x0, y0 = corner
    x1 = min(image.width, x0 + max(widths) + 2 * pad)
    y1 = min(image.height, y0 + line_h * len(lines) + pad)
    if not lines:
        return (x0, y0, x0, y0)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rectangle((x0, y0, x1, y1), fill=background)
    image.paste(Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB"))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((x0 + pad, y0 + pad + i * line_h), line, font=face, fill=fill)
    return (x0, y0, x1, y1)


def draw_boxes(image: Image.Image, boxes: Sequence[Sequence[float]], labels: Sequence[Sequence[str]], *,
               width: int | None = None) -> None:
    """Rectangles ``(x1, y1, x2, y2)`` in pixels, each with its label lines on a panel above it
    (inside the frame), in cycling colours; in place."""
    draw = ImageDraw.Draw(image)
    width = width or max(1, min(image.height, image.width) // 100)
    size = text_size(image.height, image.width)
    for i, (box, lines) in enumerate(zip(boxes, labels)):
        colour = PALETTE[i % len(PALETTE)]
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=width)
        if lines:
            top = max(0, int(y1) - (size + size // 4) * len(lines) - size // 4)
            draw_label_panel(image, lines, corner=(max(0, int(x1)), top), size=size)
            draw = ImageDraw.Draw(image)


def draw_skeleton(image: Image.Image, keypoints: np.ndarray, limbs: Sequence[tuple[int, int]], *,
                  scores: np.ndarray | None = None, threshold: float = 0.0, colour: str = PALETTE[0],
                  radius: int | None = None) -> None:
    """One person's joints ``[V, 2]`` (pixels) as dots and ``limbs`` (joint index pairs) as lines;
    joints scoring below ``threshold`` (and their limbs) are left out. In place."""
    draw = ImageDraw.Draw(image)
    radius = radius or max(1, min(image.height, image.width) // 80)
    visible = np.ones(len(keypoints), bool) if scores is None else np.asarray(scores) >= threshold
    points = [tuple(float(c) for c in p[:2]) for p in keypoints]
    for a, b in limbs:
        if visible[a] and visible[b]:
            draw.line((points[a], points[b]), fill=colour, width=max(1, radius))
    for (x, y), seen in zip(points, visible):
        if seen:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill="white", outline=colour)


_JET = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
_JET_AT = np.array([0.0, 0.125, 0.375, 0.625, 0.875, 1.0])
"""The jet colour map (MATLAB's, OpenCV's COLORMAP_JET that MMAction2's Grad-CAM demo uses) as
its piecewise-linear anchors: dark blue -> blue -> cyan -> yellow -> red -> dark red."""


def colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (any shape) -> uint8 RGB (shape + [3]) on the jet map."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    rgb = np.stack([np.interp(v, _JET_AT, _JET[:, c]) for c in range(3)], axis=-1)
    return np.round(rgb * 255).astype(np.uint8)


def blend_heatmap(frame: np.ndarray, heat: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """uint8 RGB ``[H, W, 3]`` with a ``[H, W]`` map in [0, 1] laid over it: ``(1 - alpha) * frame +
    alpha * jet(heat)``, as MMAction2's Grad-CAM demo blends (alpha 0.5)."""
    if heat.shape != frame.shape[:2]:
        raise ValueError(f"heat map {list(heat.shape)} does not match the frame {list(frame.shape[:2])}")
    mixed = (1.0 - alpha) * frame.astype(np.float32) + alpha * colormap(heat).astype(np.float32)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)


def labelled_frame(frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """A copy of uint8 RGB ``frame`` with ``lines`` on a panel in its top-left corner."""
    image = Image.fromarray(np.ascontiguousarray(frame))
    draw_label_panel(image, lines)
    return np.asarray(image)
