"""The ``recognition`` (mp4) and ``rawframes`` (JPEG folders) kinds: one content, two layouts.

Both write ``DIR/train.txt``, ``val.txt``, ``test.txt`` in MMAction2's list formats with paths
relative to the media folder (``DIR/videos`` or ``DIR/rawframes``: the config's ``root``),
``DIR/classes.txt`` (line ``i`` names label ``i``), ``DIR/person_boxes.json`` (the exact box of each
clip's objects per frame, in the person-box format of ``actioncore-augment``, so that person-box
methods such as ActorCutMix run on this set) and ``DIR/README.txt``. For one seed and size
the two kinds hold the same clips: videos decode to the rendered frames up to H.264 loss, frame
folders hold them up to JPEG loss.

Videos are intra-only H.264 (:mod:`actioncore.builtin.synth.media`): each decoded frame depends on
that frame's pixels only, so the time-reversal argument of :mod:`actioncore.builtin.synth.scenes`
holds for the decoded frames bit for bit.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from actioncore.errors import DataError
from actioncore.progress import progress_bar

from .base import MARKER, SynthReport, check_seed, prepare_out
from .media import write_jpegs, write_mp4
from .scenes import CLASSES, SPLITS, Clip, Geometry, SampleKey, render

BOXES_FILE = "person_boxes.json"
BOX_FORMAT = {"format": "actioncore-person-boxes", "version": 1}
"""The person-box JSON format (documented, read and written by ``actioncore-augment``)."""


@attrs.frozen
class Size:
    """Frame side, clip length and frame rate, and videos per class in each split."""

    resolution: int
    frames: int
    fps: int
    per_class: Mapping[str, int]

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.resolution, self.frames)


SIZES: Mapping[str, Size] = {
    "tiny": Size(32, 8, 8, {"train": 4, "val": 2, "test": 2}),
    "default": Size(64, 16, 8, {"train": 40, "val": 10, "test": 10}),
    "large": Size(64, 16, 8, {"train": 200, "val": 10, "test": 10}),
}
"""``tiny`` is for unit tests; ``default`` trains a small model in a few CPU minutes; ``large`` has
five times the training clips (its first 40 per class, and its val and test splits, are
``default``'s: clips are pure functions of seed, split and index) for data-hungry models such as
video transformers trained from scratch."""


@attrs.frozen
class _Layout:
    kind: str
    media: str
    write: Callable[[Clip, Path, Size], list[Path]]
    line: Callable[[str, Size, int], str]


def _write_mp4(clip: Clip, stem: Path, size: Size) -> list[Path]:
    return [write_mp4(clip.frames, stem.with_suffix(".mp4"), fps=size.fps)]


def _write_jpegs(clip: Clip, stem: Path, size: Size) -> list[Path]:
    return write_jpegs(clip.frames, stem)


_VIDEOS = _Layout("recognition", "videos", _write_mp4, lambda rel, size, label: f"{rel}.mp4 {label}")
_FRAMES = _Layout("rawframes", "rawframes", _write_jpegs,
                  lambda rel, size, label: f"{rel} {size.frames} {label}")


def _size(size: str | Size) -> Size:
    if isinstance(size, Size):
        return size
    if size not in SIZES:
        raise DataError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    return SIZES[size]


def _readme(layout: _Layout, seed: int, size: Size, name: str) -> str:
    classes = "\n".join(
        f"  {i:2d} {c.name:<9} {'motion-only' if c.motion_only else 'appearance '}  {c.description}"
        + (f" (= {c.partner} played backwards)" if c.reverse else "")
        for i, c in enumerate(CLASSES))
    example = "img_00001.jpg ... in each folder; list lines: 'class/id FRAMES LABEL'" \
        if layout is _FRAMES else "list lines: 'class/id.mp4 LABEL'"
    return f"""{MARKER}: {layout.kind} (seed {seed}, size {name})

{size.per_class['train']}/{size.per_class['val']}/{size.per_class['test']} train/val/test clips per class,
{size.frames} frames of {size.resolution}x{size.resolution} px at {size.fps} fps.
Regenerate with: actioncore data synth {layout.kind} --out DIR --seed {seed}

Layout: {layout.media}/<class>/<split>_<index>, {example}.
Paths in train.txt, val.txt and test.txt are relative to {layout.media}/: point a config's
`root` at DIR/{layout.media} and `ann_file` at DIR/train.txt (val.txt, test.txt).
classes.txt: line i is the name of label i.

Classes:
{classes}

{BOXES_FILE}: the exact box of each clip's objects in every frame (score 1.0), keyed by
'<class>/<split>_<index>' (basenames repeat across classes), in pixels of the decoded frames:
the extent of the pixels an object covers (x2, y2 exclusive). Frames where no object is visible
(a ring fading in) have no box. Format: {{"format": "actioncore-person-boxes", "version": 1,
"videos": {{KEY: {{"frames": {{"<0-based frame>": [[x1, y1, x2, y2, score], ...]}}}}}}}}; use it with
the actioncore-augment steps person_boxes (file = "DIR/{BOXES_FILE}") and person_mask.

Motion-only classes come in time-reversed pairs: a clip of the second class is a clip of the
first played backwards, so both classes hold exactly the same frames and a model that averages
per-frame scores cannot do better than chance within a pair (best top-1 overall: 2/3).
Horizontal flips keep every label; vertical flips swap move_up and move_down.
"""


def _synth(layout: _Layout, out: Path, seed: int, size: str | Size) -> SynthReport:
    seed, preset = check_seed(seed), _size(size)
    out = Path(out)
    prepare_out(out, [layout.media, *(f"{s}.txt" for s in SPLITS), "classes.txt", "README.txt", BOXES_FILE])
    media = out / layout.media
    for cls in CLASSES:
        (media / cls.name).mkdir(parents=True)
    written: list[Path] = []
    ann_files: dict[str, Path] = {}
    boxes: dict[str, dict] = {}
    bar = progress_bar(total=sum(preset.per_class[s] for s in SPLITS) * len(CLASSES), unit="clip",
                       desc=f"synth {layout.kind}")
    for split in SPLITS:
        lines = []
        for index in range(preset.per_class[split]):
            key = SampleKey(seed, split, index)
            for label, cls in enumerate(CLASSES):
                rel = f"{cls.name}/{split}_{index:04d}"
                clip = render(cls, key, preset.geometry)
                written += layout.write(clip, media / rel, preset)
                lines.append(layout.line(rel, preset, label))
                boxes[rel] = {"frames": {str(t): [[*map(float, row), 1.0] for row in rows.tolist()]
                                         for t, rows in enumerate(clip.boxes) if len(rows)}}
                bar.update()
        ann_files[split] = out / f"{split}.txt"
        ann_files[split].write_text("".join(f"{line}\n" for line in lines))
    bar.close()
    (out / "classes.txt").write_text("".join(f"{c.name}\n" for c in CLASSES))
    (out / BOXES_FILE).write_text(json.dumps({**BOX_FORMAT, "videos": boxes}, separators=(",", ":")))
    name = size if isinstance(size, str) else "custom"
    (out / "README.txt").write_text(_readme(layout, seed, preset, name))
    written += [*ann_files.values(), out / "classes.txt", out / BOXES_FILE, out / "README.txt"]
    return SynthReport(
        kind=layout.kind, root=out, seed=seed, classes=tuple(c.name for c in CLASSES),
        motion_only=tuple(c.name for c in CLASSES if c.motion_only),
        num_samples={s: preset.per_class[s] * len(CLASSES) for s in SPLITS}, data_prefix=media,
        ann_files=ann_files, files=tuple(p.relative_to(out) for p in written))


def synth_recognition(out: Path, *, seed: int = 0, size: str | Size = "default") -> SynthReport:
    """Clips of moving shapes in 12 classes, as mp4 videos; 8 classes differ from a partner only in motion.
    Sizes: tiny, default, large.

    See the module docstring for the layout.
    """
    return _synth(_VIDEOS, out, seed, size)


def synth_rawframes(out: Path, *, seed: int = 0, size: str | Size = "default") -> SynthReport:
    """The clips of the recognition data set as MMAction2 JPEG frame folders.
    Sizes: tiny, default, large.

    Same clips as :func:`synth_recognition` for a seed and size.
    """
    return _synth(_FRAMES, out, seed, size)
