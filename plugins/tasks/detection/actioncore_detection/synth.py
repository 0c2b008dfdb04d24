"""The ``detection`` kind: AVA-layout keyframes with several actors, each doing one or two actions.

Every video shows 2-3 actors (coloured boxes with a head) on a textured background. At each
keyframe an actor does one *posture* action and, often, one *gesture* action:

====  =======  ============================================================  ==========
 id   name     what the actor's box shows                                    cue
====  =======  ============================================================  ==========
 1    stand    the actor stays in place                                      motion
 2    walk     the actor moves sideways, 1 px per frame                      motion
 3    wave     a hand blob above the head goes up and down every 4 frames    motion
 4    carry    a yellow square at the actor's side                           appearance
 5    watch    nothing: an actor without a gesture watches while another     context
               actor waves
====  =======  ============================================================  ==========

A single frame cannot tell *stand* from *walk*: only the clip can. *watch* is not in the actor's
box at all: only the other actors (the scene, or a feature bank of the keyframe's actors, as LFB
reads) tell it. Actions change at the middle between two keyframes, so the clip that
``sample_ava_frames`` (``clip_len = 4``, ``frame_interval = 2``) takes around a keyframe shows one
action state; an actor does one or two actions at each keyframe.

Written (AVA's layout, MMAction2's timestamp arithmetic with ``fps = 8``, ``timestamp_start =
900``, ``start_index = 1``):

- ``rawframes/<video_id>/img_00001.jpg ...`` and the same frames as ``videos/<video_id>.mp4``;
- ``annotations/{train,val}.csv``: ``video_id,timestamp,x1,y1,x2,y2,action_id,person_id``;
- ``annotations/{train,val}_excluded.csv``: keyframes never trained on nor evaluated (they do
  have rows in the CSV, to show that they are skipped);
- ``annotations/{train,val}_proposals.csv``: the "person detector": every actor's box jittered
  (score 0.9-1.0) plus false positives on the background (score 0.05-0.95);
- ``annotations/label_map.pbtxt`` and ``classes.txt``.

Registered as the ``synth`` kind ``detection`` (``actioncore data synth detection``).
"""
from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np

from actioncore.sdk import DataError
from actioncore.sdk.data import SYNTH_MARKER, SynthReport, check_seed, prepare_out, write_jpegs, write_mp4

ACTIONS = ("stand", "walk", "wave", "carry", "watch")
"""Label-map ids 1..5, in order."""
WATCH = 5
FPS = 8
TIMESTAMP_START = 900


@attrs.frozen
class DetectionSize:
    """Frame side, keyframes per video, actors per video and videos per split."""

    resolution: int = 64
    keyframes: int = 6
    actors: tuple[int, int] = (2, 3)
    videos: tuple[tuple[str, int], ...] = (("train", 10), ("val", 4))


DETECTION_SIZES = {"default": DetectionSize(), "tiny": DetectionSize(keyframes=3, videos=(("train", 2), ("val", 2)))}


@attrs.define
class _Actor:
    person_id: int
    colour: np.ndarray
    width: int
    height: int
    x: float
    y: float
    direction: int
    states: list[tuple[int, int]]
    """Per keyframe: (posture id, gesture id or 0)."""


def _state_of_frame(frame: int) -> int:
    """Keyframe slot of a 0-based frame: slot k holds frames 8k-4 .. 8k+3 (keyframe frame 8k+1)."""
    return (frame + FPS // 2) // FPS


def _actors(rng: np.random.Generator, size: DetectionSize, slots: int) -> list[_Actor]:
    actors = []
    count = int(rng.integers(size.actors[0], size.actors[1], endpoint=True))
    lanes = rng.permutation(count)
    side = size.resolution
    for person in range(count):
        width, height = int(rng.integers(side // 6, side // 4)), int(rng.integers(side // 3, side // 2))
        y = 6 + lanes[person] * (side - height - 8) / max(1, count - 1) if count > 1 else (side - height) / 2
        states = []
        for _ in range(slots):
            posture = 1 + int(rng.integers(2))
            gesture = int(rng.choice([0, 3, 4], p=[0.4, 0.3, 0.3]))
            states.append((posture, gesture))
        actors.append(_Actor(person, rng.uniform(40, 220, size=3), width, height,
                             float(rng.uniform(4, side - width - 4)), float(y), int(rng.choice([-1, 1])), states))
    return actors


def _render(rng: np.random.Generator, actors: list[_Actor], size: DetectionSize, frames: int):
    """Frames uint8 ``[F, S, S, 3]`` and each actor's box per frame ``[A, F, 4]`` (pixels)."""
    side = size.resolution
    background = np.clip(rng.normal(110, 25, size=(side // 8, side // 8, 3)), 0, 255)
    background = np.kron(background, np.ones((8, 8, 1))) + rng.normal(0, 6, size=(side, side, 3))
    video = np.empty((frames, side, side, 3), dtype=np.uint8)
    boxes = np.zeros((len(actors), frames, 4))
    for f in range(frames):
        canvas = background.copy()
        slot = min(_state_of_frame(f), len(actors[0].states) - 1)
        for a, actor in enumerate(actors):
            posture, gesture = actor.states[slot]
            if posture == 2:  # walk, bouncing off the frame's sides
                actor.x += actor.direction
                if not 2 <= actor.x <= side - actor.width - 2:
                    actor.direction *= -1
                    actor.x += 2 * actor.direction
            x0, y0 = int(round(actor.x)), int(round(actor.y))
            x1, y1 = x0 + actor.width, y0 + actor.height
            canvas[y0:y1, x0:x1] = actor.colour
            head = actor.width // 2
            canvas[y0:y0 + head, x0 + actor.width // 4:x0 + actor.width // 4 + head] = actor.colour * 0.6 + 90
            if gesture == 3:  # wave: a hand above the head, up and down
                lift = (0, 2, 4, 2)[f % 4]
                hy = max(0, y0 - 2 - lift)
                canvas[hy:hy + 3, x1 - 3:x1] = (250, 250, 250)
                y0 = min(y0, hy)
            if gesture == 4:  # carry: a yellow box at the side
                canvas[y0 + actor.height // 2:y0 + actor.height // 2 + 5, x1 - 2:min(side, x1 + 3)] = (240, 220, 20)
                x1 = min(side, x1 + 3)
            boxes[a, f] = (x0, y0, x1, y1)
        video[f] = np.clip(canvas, 0, 255).astype(np.uint8)
    return video, boxes


def _box_text(box: np.ndarray, side: int) -> str:
    return ",".join(f"{v:.3f}" for v in np.clip(np.asarray(box) / side, 0, 1))


def _proposals(rng: np.random.Generator, boxes: np.ndarray, side: int) -> list[str]:
    rows = []
    for box in boxes:  # the detected people: jittered by a few pixels
        jitter = box + rng.normal(0, 0.6, size=4)
        rows.append(f"{_box_text(jitter, side)},{rng.uniform(0.9, 1.0):.4f}")
    for _ in range(int(rng.integers(1, 3))):  # false positives on the background
        x, y = rng.uniform(0, side * 0.7, size=2)
        w, h = rng.uniform(side * 0.1, side * 0.3, size=2)
        rows.append(f"{_box_text((x, y, min(side, x + w), min(side, y + h)), side)},{rng.uniform(0.05, 0.95):.4f}")
    return rows


def _label_map() -> str:
    return "".join(f'item {{\n  name: "{name}"\n  id: {i}\n}}\n' for i, name in enumerate(ACTIONS, start=1))


def synth_detection(out: Path, *, seed: int = 0, size: str = "default") -> SynthReport:
    """AVA-layout keyframes where 2-3 actors each do one or two of 5 actions, with person proposals.
    Sizes: tiny, default.

    See the module docstring for the files.
    """
    seed = check_seed(seed)
    if size not in DETECTION_SIZES:
        raise DataError(f"unknown size {size!r}; choose one of {', '.join(DETECTION_SIZES)}")
    preset = DETECTION_SIZES[size]
    out = Path(out)
    prepare_out(out, ["rawframes", "videos", "annotations", "classes.txt", "README.txt"])
    (out / "annotations").mkdir()
    (out / "videos").mkdir()
    files: list[Path] = []
    counts: dict[str, int] = {}
    ann_files: dict[str, Path] = {}
    side, slots = preset.resolution, preset.keyframes + 2
    frames = slots * FPS
    for split_index, (split, videos) in enumerate(preset.videos):
        rng = np.random.default_rng([seed, split_index])
        csv_rows, excluded, proposals = [], [], []
        for v in range(videos):
            video_id = f"{split}_{v:03d}"
            actors = _actors(rng, preset, slots)
            video, boxes = _render(rng, actors, preset, frames)
            files += write_jpegs(video, out / "rawframes" / video_id)
            files.append(write_mp4(video, out / "videos" / f"{video_id}.mp4", fps=FPS))
            for slot in range(1, preset.keyframes + 1):
                timestamp = TIMESTAMP_START + slot
                key_frame = FPS * slot + 1  # MMAction2's keyframe index with start_index 1
                wavers = {actor.person_id for actor in actors if actor.states[slot][1] == 3}
                for actor, actor_boxes in zip(actors, boxes):
                    posture, gesture = actor.states[slot]
                    if not gesture and wavers - {actor.person_id}:
                        gesture = WATCH
                    for action in (posture, gesture) if gesture else (posture,):
                        csv_rows.append(f"{video_id},{timestamp:04d},{_box_text(actor_boxes[key_frame], side)},"
                                        f"{action},{actor.person_id}")
                proposals += [f"{video_id},{timestamp:04d},{row}" for row in _proposals(rng, boxes[:, key_frame], side)]
            excluded.append(f"{video_id},{TIMESTAMP_START + preset.keyframes:04d}")
        counts[split] = videos * (preset.keyframes - 1)
        for name, rows in ((f"{split}.csv", csv_rows), (f"{split}_excluded.csv", excluded),
                           (f"{split}_proposals.csv", proposals)):
            path = out / "annotations" / name
            path.write_text("\n".join(rows) + "\n")
            files.append(path)
        ann_files[split] = out / "annotations" / f"{split}.csv"
    (out / "annotations" / "label_map.pbtxt").write_text(_label_map())
    (out / "classes.txt").write_text("\n".join(ACTIONS) + "\n")
    (out / "README.txt").write_text(
        f"{SYNTH_MARKER}: detection (seed {seed}, size {size})\n\n"
        f"AVA layout: rawframes/<video_id>/img_00001.jpg (and videos/<video_id>.mp4), {side}x{side} px at {FPS} fps;\n"
        "annotations/{split}.csv, {split}_excluded.csv, {split}_proposals.csv, label_map.pbtxt.\n"
        f"Actions (label-map ids 1..{len(ACTIONS)}): {', '.join(ACTIONS)}; stand/walk differ only in motion,\n"
        "watch (another actor waves) only in context.\n"
        f"Dataset settings: fps = {FPS}, timestamp_start = {TIMESTAMP_START}, timestamp_end = "
        f"{TIMESTAMP_START + slots}, start_index = 1.\n"
        f"Regenerate with: actioncore data synth detection --out DIR --seed {seed}\n")
    files += [out / "annotations" / "label_map.pbtxt", out / "classes.txt", out / "README.txt"]
    return SynthReport(kind="detection", root=out, seed=seed, classes=ACTIONS, motion_only=("stand", "walk"),
                       num_samples=counts, data_prefix=out / "rawframes", ann_files=ann_files,
                       files=tuple(p.relative_to(out) for p in files))
