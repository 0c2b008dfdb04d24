"""The clips of the embedded recognition data set: twelve classes, eight of them motion-only.

Every clip shows coloured objects on a textured background with per-frame sensor noise and
illumination flicker. A clip is a pure function of its class and its :class:`SampleKey`
``(seed, split, index)``. The key feeds three independent random streams: *scene* (background,
colour, noise level), *motion* (the class's trajectory program) and *noise* (per-frame grain and
gain). Scene and noise do not depend on the class, so the clips of all twelve classes for one key
share background, colours and noise; classes differ only in the factor that defines them.

Appearance classes (``square``, ``disc``, ``triangle``, ``cross``): one filled shape of equal area
drifting along a random straight path and spinning at a random signed rate. The motion carries no
label information (its distribution and, per key, its draw are the same for the four shapes);
a single frame tells them apart by shape.

Motion-only classes come in four time-reversed pairs. For each pair a *forward* program draws
a trajectory whose state changes monotonically; the partner's clip for key ``k`` is the forward
clip for ``k`` played backwards, noise included:

- ``move_up`` / ``move_down``: a ring travels 35-55 % of the frame height upwards; reversed,
  downwards. Start height is drawn so that both ends stay inside the frame.
- ``grow`` / ``shrink``: a ring's radius rises geometrically from 7-10 % to 30-38 % of the frame
  size; reversed, it falls.
- ``appear`` / ``vanish``: a ring fades in from fully transparent to opaque between two random
  times; reversed, it fades out.
- ``approach`` / ``separate``: two equal rings on a random axis close a gap of 55-70 % of the
  frame to just touching; reversed, they move apart.

Why a frame-averaging model cannot separate a pair: the frames of ``B(k)`` are exactly the frames
of ``A(k)`` in reverse order, so for every key the two clips hold the same multiset of frames, and
since keys are shared across classes the whole data set holds the same frames for ``A`` as for
``B``. Any function of an unordered set of frames, such as TSN's average of per-frame scores over
all frames, returns the same value for ``A(k)`` and ``B(k)`` and therefore gets at most one of
the two right: at most 50 % on every pair, whatever it learned. Sampling a subset of frames
keeps this exactly when the subset is symmetric under ``t -> T-1-t``; otherwise (TSN's segment
centres on 16 frames take the odd ones) the two bags are the same trajectory shifted by one
frame, a difference that training with random offsets gives no reason to tie to a label. A model
that orders frames separates every pair by the sign of one slope: height, radius, opacity, gap.

So the best frame-averaging accuracy is (4 + 8 / 2) / 12 = 2/3, while a temporal model can reach
100 %. Horizontal flipping keeps every label (no left/right or clockwise classes), so the usual
flip augmentation is safe; vertical flips swap ``move_up`` and ``move_down``, and temporal
reversal swaps every pair.

Rendering uses only element-wise IEEE arithmetic on arrays (no BLAS, no vectorised sin/exp,
whose results vary with the CPU's SIMD level) and per-frame scalars from :mod:`math`, so the
same key gives the same pixels on any machine with the same NumPy random streams.
"""
from __future__ import annotations

import colorsys
import functools
import math
from collections.abc import Callable, Sequence

import attrs
import numpy as np

SPLITS: tuple[str, ...] = ("train", "val", "test")

_SCENE, _MOTION, _NOISE = range(3)


@attrs.frozen
class SampleKey:
    """Identifies one clip apart from its class: the data set seed, the split and the index."""

    seed: int
    split: str
    index: int

    def rng(self, stream: int) -> np.random.Generator:
        """Independent stream ``stream`` of this key; fresh on every call."""
        return np.random.default_rng([self.seed, SPLITS.index(self.split), self.index, stream])


@attrs.frozen
class Geometry:
    """Square frame side in pixels and clip length in frames."""

    size: int
    frames: int


@attrs.frozen(eq=False)
class Actor:
    """One object's per-frame state; arrays have one entry (or row) per frame."""

    shape: str
    centre: np.ndarray
    """float ``[T, 2]`` (x, y) in pixels, origin at the top-left corner of the frame."""
    radius: np.ndarray
    """float ``[T]``: radius of the disc of the same area (rings: outer radius)."""
    angle: np.ndarray
    opacity: np.ndarray


@attrs.frozen(eq=False)
class Clip:
    """Rendered frames and where the objects are (for tests, and for kinds that need boxes)."""

    frames: np.ndarray
    """uint8 ``[T, H, W, 3]`` RGB."""
    coverage: np.ndarray
    """float32 ``[T, H, W]`` in [0, 1]: object opacity per pixel, before noise."""
    boxes: tuple[np.ndarray, ...] = ()
    """Per frame, float32 ``[K, 4]`` ``(x1, y1, x2, y2)``: the pixel extent (end exclusive) of each
    visible object, i.e. of its pixels with coverage > 0; the clip's "person" boxes."""


def object_boxes(alpha: np.ndarray) -> list[np.ndarray]:
    """Per frame, the ``[1, 4]`` pixel extent of ``alpha > 0`` (``[0, 4]`` where it is empty)."""
    cols, rows = (alpha > 0).any(axis=1), (alpha > 0).any(axis=2)
    out = []
    for col, row in zip(cols, rows):
        if not col.any():
            out.append(np.zeros((0, 4), np.float32))
            continue
        x = np.flatnonzero(col)
        y = np.flatnonzero(row)
        out.append(np.array([[x[0], y[0], x[-1] + 1, y[-1] + 1]], np.float32))
    return out


Program = Callable[[np.random.Generator, Geometry], list[Actor]]


@attrs.frozen
class ActionClass:
    """A label: the program that draws its objects' motion, and whether it is played backwards."""

    name: str
    program: Program
    description: str
    reverse: bool = False
    partner: str | None = None
    """The class whose clips, played backwards, are this class's clips (motion-only classes)."""

    @property
    def motion_only(self) -> bool:
        return self.partner is not None


def _square(px: np.ndarray, py: np.ndarray, r: np.ndarray) -> np.ndarray:
    half = r * (math.sqrt(math.pi) / 2)
    return np.maximum(np.abs(px), np.abs(py)) - half


def _disc(px: np.ndarray, py: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.sqrt(px * px + py * py) - r


_TRIANGLE_R = math.sqrt(4 * math.pi / (3 * math.sqrt(3)))
"""Circumradius of the equilateral triangle with the area of the unit disc."""
_TRIANGLE_NORMALS = [(math.cos(a), math.sin(a)) for a in (math.pi / 2 + k * 2 * math.pi / 3 for k in range(3))]
_CROSS_K = 0.36
"""Arm width over arm span: thin enough that a cross never looks like a square at 32 px."""
_CROSS_LEN = math.sqrt(math.pi / (2 * _CROSS_K - _CROSS_K * _CROSS_K))
"""Span of the cross with the area of the unit disc."""


def _triangle(px: np.ndarray, py: np.ndarray, r: np.ndarray) -> np.ndarray:
    inradius = r * (_TRIANGLE_R / 2)
    edges = [nx * px + ny * py for nx, ny in _TRIANGLE_NORMALS]
    return np.maximum(np.maximum(edges[0], edges[1]), edges[2]) - inradius


def _cross(px: np.ndarray, py: np.ndarray, r: np.ndarray) -> np.ndarray:
    long, short = r * (_CROSS_LEN / 2), r * (_CROSS_LEN * _CROSS_K / 2)
    ax, ay = np.abs(px), np.abs(py)
    return np.minimum(np.maximum(ax - long, ay - short), np.maximum(ax - short, ay - long))


def _ring(px: np.ndarray, py: np.ndarray, r: np.ndarray) -> np.ndarray:
    width = np.maximum(r * 0.3, 1.2)
    return np.abs(np.sqrt(px * px + py * py) - (r - width / 2)) - width / 2


SHAPES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "square": _square, "disc": _disc, "triangle": _triangle, "cross": _cross, "ring": _ring,
}
"""Signed distance in pixels (negative inside); all filled shapes have the area of a disc of radius r."""


def _ramp(start: float, stop: float, frames: int) -> np.ndarray:
    return np.array([start + (stop - start) * t / (frames - 1) for t in range(frames)])


def _path(rng: np.random.Generator, g: Geometry, margin: float, travel: float) -> np.ndarray:
    """Straight path of length <= travel whose both ends keep ``margin`` from the frame edges."""
    lo, hi = margin, g.size - margin
    start = rng.uniform(lo, hi, 2)
    end = np.clip(start + rng.uniform(-travel, travel, 2), lo, hi)
    return np.stack([_ramp(start[0], end[0], g.frames), _ramp(start[1], end[1], g.frames)], 1)


def _jitter(rng: np.random.Generator, centre: np.ndarray) -> np.ndarray:
    return centre + rng.normal(0.0, 0.25, centre.shape)


def _constant(value: float, frames: int) -> np.ndarray:
    return np.full(frames, value)


def _shape_program(shape: str) -> Program:
    def program(rng: np.random.Generator, g: Geometry) -> list[Actor]:
        radius = rng.uniform(0.13, 0.18) * g.size
        centre = _jitter(rng, _path(rng, g, radius * 1.3 + 1, 0.25 * g.size))
        spin = rng.uniform(-0.15, 0.15)
        start = rng.uniform(0, 2 * math.pi)
        angle = np.array([start + spin * t for t in range(g.frames)])
        return [Actor(shape, centre, _constant(radius, g.frames), angle, _constant(1.0, g.frames))]

    return program


def _ring_actor(centre: np.ndarray, radius: np.ndarray | float, opacity: np.ndarray | float = 1.0) -> Actor:
    frames = len(centre)
    return Actor("ring", centre, np.broadcast_to(radius, frames).astype(float), np.zeros(frames),
                 np.broadcast_to(opacity, frames).astype(float))


def _move_up(rng: np.random.Generator, g: Geometry) -> list[Actor]:
    radius = rng.uniform(0.12, 0.16) * g.size
    travel = rng.uniform(0.35, 0.55) * g.size
    x0 = rng.uniform(radius + 1, g.size - radius - 1)
    x1 = np.clip(x0 + rng.uniform(-0.05, 0.05) * g.size, radius + 1, g.size - radius - 1)
    y0 = rng.uniform(radius + 1 + travel, g.size - radius - 1)
    centre = np.stack([_ramp(x0, x1, g.frames), _ramp(y0, y0 - travel, g.frames)], 1)
    return [_ring_actor(_jitter(rng, centre), radius)]


def _grow(rng: np.random.Generator, g: Geometry) -> list[Actor]:
    r0, r1 = rng.uniform(0.07, 0.10) * g.size, rng.uniform(0.30, 0.38) * g.size
    centre = _jitter(rng, _path(rng, g, r1 + 1, 0.1 * g.size))
    radius = np.array([r0 * (r1 / r0) ** (t / (g.frames - 1)) for t in range(g.frames)])
    return [_ring_actor(centre, radius)]


def _appear(rng: np.random.Generator, g: Geometry) -> list[Actor]:
    radius = rng.uniform(0.12, 0.18) * g.size
    centre = _jitter(rng, _path(rng, g, radius + 1, 0.25 * g.size))
    last = g.frames - 1
    t0, t1 = rng.uniform(0.0, 0.3) * last, rng.uniform(0.7, 1.0) * last
    opacity = np.array([min(max((t - t0) / (t1 - t0), 0.0), 1.0) for t in range(g.frames)])
    return [_ring_actor(centre, radius, opacity)]


def _approach(rng: np.random.Generator, g: Geometry) -> list[Actor]:
    radius = rng.uniform(0.08, 0.11) * g.size
    gap0, gap1 = rng.uniform(0.55, 0.70) * g.size, rng.uniform(2.1, 2.6) * radius
    theta = rng.uniform(0, math.pi)
    ux, uy = math.cos(theta), math.sin(theta)
    ex, ey = abs(ux) * gap0 / 2 + radius + 1, abs(uy) * gap0 / 2 + radius + 1
    mx, my = rng.uniform(ex, g.size - ex), rng.uniform(ey, g.size - ey)
    half = _ramp(gap0 / 2, gap1 / 2, g.frames)
    offset = np.stack([half * ux, half * uy], 1)
    mid = np.array([mx, my])
    return [_ring_actor(_jitter(rng, mid + offset), radius), _ring_actor(_jitter(rng, mid - offset), radius)]


def _pair(forward: str, backward: str, program: Program, what: str, back: str) -> list[ActionClass]:
    return [ActionClass(forward, program, what, partner=backward),
            ActionClass(backward, program, back, reverse=True, partner=forward)]


CLASSES: tuple[ActionClass, ...] = (
    *(ActionClass(s, _shape_program(s), f"a {s} drifting and spinning at random")
      for s in ("square", "disc", "triangle", "cross")),
    *_pair("move_up", "move_down", _move_up, "a ring moving up", "a ring moving down"),
    *_pair("grow", "shrink", _grow, "a ring growing", "a ring shrinking"),
    *_pair("appear", "vanish", _appear, "a ring fading in", "a ring fading out"),
    *_pair("approach", "separate", _approach, "two rings moving together", "two rings moving apart"),
)
"""Label ``i`` is ``CLASSES[i]``."""

CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)


def _colour(rng: np.random.Generator, bright: bool) -> np.ndarray:
    value = rng.uniform(0.75, 1.0) if bright else rng.uniform(0.1, 0.3)
    return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.3, 0.9), value), np.float32)


def _background(rng: np.random.Generator, size: int, base: np.ndarray) -> np.ndarray:
    """Base colour plus a bilinear low-frequency texture plus static grain, ``[H, W, 3]``."""
    cells = int(rng.integers(3, 7))
    grid = rng.uniform(-0.12, 0.12, (cells, cells, 3)).astype(np.float32)
    u = (np.arange(size, dtype=np.float32) + 0.5) * np.float32((cells - 1) / size)
    i0 = np.floor(u).astype(np.int64)
    i1 = np.minimum(i0 + 1, cells - 1)
    f = u - i0
    fy, fx = f[:, None, None], f[None, :, None]
    top = grid[i0][:, i0] * (1 - fx) + grid[i0][:, i1] * fx
    bottom = grid[i1][:, i0] * (1 - fx) + grid[i1][:, i1] * fx
    grain = rng.normal(0.0, 0.015, (size, size, 1)).astype(np.float32)
    return base + top * (1 - fy) + bottom * fy + grain


def _coverage(actor: Actor, g: Geometry) -> np.ndarray:
    axis = np.arange(g.size, dtype=np.float32) + 0.5
    dx = axis[None, None, :] - actor.centre[:, 0, None, None].astype(np.float32)
    dy = axis[None, :, None] - actor.centre[:, 1, None, None].astype(np.float32)
    cos = np.array([math.cos(a) for a in actor.angle], np.float32)[:, None, None]
    sin = np.array([math.sin(a) for a in actor.angle], np.float32)[:, None, None]
    px, py = cos * dx + sin * dy, cos * dy - sin * dx
    radius = actor.radius.astype(np.float32)[:, None, None]
    inside = np.clip(0.5 - SHAPES[actor.shape](px, py, radius), 0.0, 1.0)
    return inside * actor.opacity.astype(np.float32)[:, None, None]


@attrs.frozen(eq=False)
class _Scene:
    background: np.ndarray
    colour: np.ndarray
    gain: np.ndarray
    noise: np.ndarray


@functools.lru_cache(maxsize=2)
def _scene(key: SampleKey, geometry: Geometry) -> _Scene:
    """Everything a key fixes apart from motion; cached because all classes of a key share it."""
    rng = key.rng(_SCENE)
    bright = bool(rng.integers(2))
    background = _background(rng, geometry.size, _colour(rng, not bright))
    colour = _colour(rng, bright)
    sigma = np.float32(rng.uniform(1.0, 4.0) / 255)
    rng = key.rng(_NOISE)
    gain = (1 + rng.normal(0.0, 0.02, geometry.frames)).astype(np.float32)[:, None, None, None]
    noise = rng.standard_normal((geometry.frames, *background.shape), dtype=np.float32) * sigma
    for array in (background, colour, gain, noise):
        array.flags.writeable = False
    return _Scene(background, colour, gain, noise)


def render(action: ActionClass | str, key: SampleKey, geometry: Geometry) -> Clip:
    """The clip of class ``action`` for ``key``; same arguments, same pixels."""
    cls = action if isinstance(action, ActionClass) else CLASSES[CLASS_NAMES.index(action)]
    scene = _scene(key, geometry)
    frames = np.broadcast_to(scene.background, scene.noise.shape).copy()
    coverage = np.zeros(frames.shape[:3], np.float32)
    per_actor = []
    for actor in cls.program(key.rng(_MOTION), geometry):
        alpha = _coverage(actor, geometry)
        frames += (scene.colour - frames) * alpha[..., None]
        coverage = np.maximum(coverage, alpha)
        per_actor.append(object_boxes(alpha))
    frames = frames * scene.gain + scene.noise
    pixels = np.clip(frames * 255 + 0.5, 0, 255).astype(np.uint8)
    boxes = [np.concatenate(rows) for rows in zip(*per_actor)]
    if cls.reverse:
        pixels, coverage, boxes = pixels[::-1], coverage[::-1], boxes[::-1]
    return Clip(np.ascontiguousarray(pixels), np.ascontiguousarray(coverage), tuple(boxes))


def motion_only_pairs() -> Sequence[tuple[str, str]]:
    """(forward, backward) class names of every time-reversed pair."""
    return [(c.name, c.partner) for c in CLASSES if c.motion_only and not c.reverse]
