"""The ``skeleton`` kind: stick figures performing eight actions, as a pose store.

Each sample is a person (and, in about a third of the samples, an idle bystander for part of
the clip) animated by a small kinematic body model: joint angles per frame drive a 3D skeleton,
which is seen by a camera as COCO-17 pixel keypoints with confidence scores (the default) or as
NTU RGB+D 25-joint camera coordinates in metres (``layout="nturgb+d"``, from Python). Body size,
position, speed, phase, facing direction and clip length (40-80 frames) vary per sample; joints
jitter, and in 2D some go missing (coordinates and score 0), a few for several frames in a row.

Written files: ``DIR/poses/`` (a pose store, :func:`actioncore_pose.records.write_store`:
``index.json`` with splits ``train``, ``val`` and ``test``, ``keypoint.npy``,
``keypoint_score.npy``), ``DIR/classes.txt`` and ``DIR/README.txt``. Deterministic for a seed,
size and layout. Registered as the ``synth`` kind ``skeleton`` (``actioncore data synth skeleton``).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs
import numpy as np

from actioncore.sdk import DataError
from actioncore.sdk.data import SYNTH_MARKER, SynthReport, check_seed, prepare_out

from .records import PoseRecord, write_store

SPLITS = ("train", "val", "test")
IMG_SHAPE = (480, 640)
"""(height, width) of the imagined camera frames, in pixels."""
DEPTH = 4.0
"""Camera distance of the scene's centre, in metres."""


@attrs.frozen
class SkeletonSize:
    """Samples per class in each split."""

    per_class: Mapping[str, int]


SIZES: Mapping[str, SkeletonSize] = {
    "tiny": SkeletonSize({"train": 4, "val": 2, "test": 2}),
    "default": SkeletonSize({"train": 30, "val": 8, "test": 8}),
}
"""``tiny`` for unit tests; ``default`` trains a small ST-GCN or PoseC3D in seconds to a minute."""

# ---------------------------------------------------------------------------------------------
# Body model. Body frame: x to the person's left, y up, z forward; lengths in body heights.

_SEG = {"spine": 0.15, "chest": 0.15, "neck": 0.05, "head": 0.08, "shoulder": 0.11, "hip": 0.06,
        "upper_arm": 0.17, "forearm": 0.15, "hand": 0.05, "thigh": 0.245, "shin": 0.245, "ankle": 0.04,
        "foot": 0.07}


def _direction(elevation: np.ndarray, azimuth: np.ndarray, side: float) -> np.ndarray:
    """Unit vectors ``[T, 3]``: ``elevation`` from straight down, ``azimuth`` 0 outward to ``side``
    (+1 left, -1 right), pi/2 forward, -pi/2 backward, past pi/2 across the body."""
    e, a = np.broadcast_arrays(np.asarray(elevation, float), np.asarray(azimuth, float))
    return np.stack([side * np.sin(e) * np.cos(a), -np.cos(e), np.sin(e) * np.sin(a)], axis=-1)


@attrs.define
class Motion:
    """Per-frame angles (radians) and root motion of one person; arrays of length T."""

    frames: int
    yaw: np.ndarray
    lean: np.ndarray
    arm: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    """side -> (upper elevation, upper azimuth, fore elevation, fore azimuth)."""
    leg: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    """side -> (thigh elevation, thigh azimuth, shin elevation, shin azimuth)."""
    travel: np.ndarray
    """Distance walked forward (body heights)."""
    lift: np.ndarray
    """Height of the feet above the ground (jumps, body heights)."""

    @classmethod
    def standing(cls, frames: int, yaw: float) -> Motion:
        full = lambda v: np.full(frames, float(v))  # noqa: E731
        return cls(frames, full(yaw), full(0.0),
                   {s: (full(0.15), full(0.0), full(0.25), full(0.4)) for s in ("left", "right")},
                   {s: (full(0.03), full(0.0), full(0.03), full(0.0)) for s in ("left", "right")},
                   full(0.0), full(0.0))


SIDES = {"left": 1.0, "right": -1.0}


def body_joints(motion: Motion, height: float) -> dict[str, np.ndarray]:
    """World positions ``[T, 3]`` in metres (x right in the camera image, y up, z towards the camera)."""
    t = motion.frames
    seg = {k: v * height for k, v in _SEG.items()}
    up = np.stack([np.zeros(t), np.cos(motion.lean), np.sin(motion.lean)], -1)
    forward = np.stack([np.zeros(t), -np.sin(motion.lean), np.cos(motion.lean)], -1)
    lateral = np.array([1.0, 0.0, 0.0])
    local: dict[str, np.ndarray] = {}
    legs = {}
    for side, sign in SIDES.items():
        e1, a1, e2, a2 = motion.leg[side]
        hip = sign * lateral * seg["hip"]
        knee = hip + _direction(e1, a1, sign) * seg["thigh"]
        ankle = knee + _direction(e2, a2, sign) * seg["shin"]
        legs[side] = (np.broadcast_to(hip, knee.shape), knee, ankle)
    # the pelvis sits so that the lower foot touches the ground, plus any jump
    lowest = np.minimum(legs["left"][2][:, 1], legs["right"][2][:, 1])
    pelvis_height = -lowest + seg["ankle"] + motion.lift * height
    for side, sign in SIDES.items():
        hip, knee, ankle = legs[side]
        local[f"{side}_hip"], local[f"{side}_knee"], local[f"{side}_ankle"] = hip, knee, ankle
        local[f"{side}_foot"] = ankle + np.array([0.0, -seg["ankle"], seg["foot"]])
    local["pelvis"] = np.zeros((t, 3))
    local["spine_mid"] = up * seg["spine"]
    local["spine_shoulder"] = up * (seg["spine"] + seg["chest"])
    local["neck"] = local["spine_shoulder"] + up * seg["neck"]
    head = local["neck"] + up * seg["head"]
    local["head"] = head
    local["nose"] = head + forward * 0.05 * height
    for side, sign in SIDES.items():
        local[f"{side}_eye"] = head + forward * 0.04 * height + sign * lateral * 0.025 * height + up * 0.01 * height
        local[f"{side}_ear"] = head + sign * lateral * 0.06 * height
        e1, a1, e2, a2 = motion.arm[side]
        shoulder = local["spine_shoulder"] + sign * lateral * seg["shoulder"]
        elbow = shoulder + _direction(e1, a1, sign) * seg["upper_arm"]
        fore = _direction(e2, a2, sign)
        wrist = elbow + fore * seg["forearm"]
        local[f"{side}_shoulder"], local[f"{side}_elbow"], local[f"{side}_wrist"] = shoulder, elbow, wrist
        local[f"{side}_hand"] = wrist + fore * seg["hand"]
        local[f"{side}_hand_tip"] = wrist + fore * 2 * seg["hand"]
        local[f"{side}_thumb"] = wrist + fore * seg["hand"] + forward * 0.02 * height
    cos, sin = np.cos(motion.yaw)[:, None], np.sin(motion.yaw)[:, None]
    root = np.stack([np.zeros(t), pelvis_height, np.zeros(t)], -1)
    heading = np.stack([np.sin(motion.yaw), np.zeros(t), np.cos(motion.yaw)], -1)
    root = root + heading * (motion.travel * height)[:, None]
    world = {}
    for name, p in local.items():
        x, y, z = p[:, 0:1], p[:, 1:2], p[:, 2:3]
        world[name] = root + np.concatenate([cos * x + sin * z, y, -sin * x + cos * z], -1)
    return world


# ---------------------------------------------------------------------------------------------
# Actions: each returns the motion of a sample from its frame count and random source.


def _phase(frames: int, rng: np.random.Generator, cycles: tuple[float, float]) -> np.ndarray:
    """Angle ``2 pi f u + phi`` over the clip (``u`` in [0, 1]) for a random cycle count ``f``."""
    u = np.linspace(0.0, 1.0, frames)
    return 2 * math.pi * rng.uniform(*cycles) * u + rng.uniform(0, 2 * math.pi)


def _wave(m: Motion, rng: np.random.Generator) -> None:
    p = _phase(m.frames, rng, (2.0, 3.5))
    m.arm["right"] = (np.full(m.frames, rng.uniform(2.2, 2.6)), np.full(m.frames, 0.2),
                      2.75 + 0.45 * np.sin(p), np.full(m.frames, 0.1))


def _clap(m: Motion, rng: np.random.Generator) -> None:
    p = _phase(m.frames, rng, (3.0, 4.5))
    closing = 0.5 + 0.5 * np.sin(p)
    for side in SIDES:
        m.arm[side] = (np.full(m.frames, 1.2), np.full(m.frames, 1.1), np.full(m.frames, 1.5), 1.45 + 0.6 * closing)


def _squat(m: Motion, rng: np.random.Generator) -> None:
    depth = rng.uniform(0.8, 1.0) * (0.5 - 0.5 * np.cos(_phase(m.frames, rng, (1.0, 2.0))))
    for side in SIDES:
        m.leg[side] = (1.35 * depth, np.full(m.frames, math.pi / 2), 1.0 * depth, np.full(m.frames, -math.pi / 2))
        m.arm[side] = (0.15 + 1.3 * depth, np.full(m.frames, math.pi / 2), 0.2 + 1.3 * depth, np.full(m.frames, math.pi / 2))
    m.lean = 0.45 * depth
    m.yaw = np.full(m.frames, rng.uniform(-0.8, 0.8))  # turned a little, so the knees show in 2D


def _jump(m: Motion, rng: np.random.Generator) -> None:
    wave = np.sin(_phase(m.frames, rng, (2.0, 3.0)))
    air, crouch = np.clip(wave, 0, None), np.clip(-wave, 0, None)
    m.lift = rng.uniform(0.12, 0.2) * air
    for side in SIDES:
        m.leg[side] = (0.03 + 0.9 * crouch, np.full(m.frames, math.pi / 2), 0.03 + 0.7 * crouch,
                       np.full(m.frames, -math.pi / 2))
        m.arm[side] = (0.2 + 2.2 * air, np.full(m.frames, 0.4), 0.3 + 2.2 * air, np.full(m.frames, 0.4))
    m.lean = 0.25 * crouch


def _walk(direction: float) -> Callable[[Motion, np.random.Generator], None]:
    def walk(m: Motion, rng: np.random.Generator) -> None:
        p = _phase(m.frames, rng, (1.5, 2.5))
        m.yaw = np.full(m.frames, direction * math.pi / 2 + rng.normal(0, 0.15))
        m.travel = np.linspace(0, rng.uniform(0.45, 0.75), m.frames)
        for side, sign in SIDES.items():
            swing = 0.45 * sign * np.sin(p)
            bend = swing - 0.5 * np.clip(sign * np.cos(p), 0, None)
            m.leg[side] = (np.abs(swing), np.sign(swing) * math.pi / 2, np.abs(bend), np.sign(bend) * math.pi / 2)
            arm = -0.35 * sign * np.sin(p)
            m.arm[side] = (np.abs(arm), np.sign(arm) * math.pi / 2, np.abs(arm + 0.3), np.sign(arm + 0.3) * math.pi / 2)
    return walk


def _raise_arms(m: Motion, rng: np.random.Generator) -> None:
    u = np.linspace(0, 1, m.frames)
    level = 0.5 - 0.5 * np.cos(2 * math.pi * rng.uniform(0.8, 1.2) * u)
    for side in SIDES:
        m.arm[side] = (0.15 + 2.7 * level, np.full(m.frames, 0.0), 0.25 + 2.7 * level, np.full(m.frames, 0.0))


def _kick(m: Motion, rng: np.random.Generator) -> None:
    kick = np.clip(np.sin(_phase(m.frames, rng, (1.5, 2.5))), 0, None) ** 2
    m.yaw = np.full(m.frames, rng.choice([-1, 1]) * rng.uniform(0.4, 1.0))  # kicks seen from an angle
    m.leg["right"] = (0.03 + 1.3 * kick, np.full(m.frames, math.pi / 2), 0.03 + 0.9 * kick, np.full(m.frames, math.pi / 2))
    for side in SIDES:
        m.arm[side] = (np.full(m.frames, 0.5), np.full(m.frames, 0.0), np.full(m.frames, 0.6), np.full(m.frames, 0.3))


ACTIONS: tuple[tuple[str, Callable[[Motion, np.random.Generator], None], str], ...] = (
    ("wave", _wave, "the right hand waves overhead"),
    ("clap", _clap, "both hands meet in front of the chest, again and again"),
    ("squat", _squat, "knees bend and the hips drop, once or twice"),
    ("jump", _jump, "crouch and leave the ground, two or three times"),
    ("walk_left", _walk(-1.0), "walks to the image's left, seen from the side"),
    ("walk_right", _walk(1.0), "walks to the image's right, seen from the side"),
    ("raise_arms", _raise_arms, "both arms rise sideways overhead and come down"),
    ("kick", _kick, "the right leg kicks forward"),
)
CLASSES = tuple(name for name, _, _ in ACTIONS)

COCO_JOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
               "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
               "left_knee", "right_knee", "left_ankle", "right_ankle")
NTU_JOINTS = ("pelvis", "spine_mid", "neck", "head", "left_shoulder", "left_elbow", "left_wrist",
              "left_hand", "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip",
              "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee", "right_ankle",
              "right_foot", "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb")
LAYOUT_JOINTS = {"coco": COCO_JOINTS, "nturgb+d": NTU_JOINTS}


# ---------------------------------------------------------------------------------------------
# Camera and samples


@attrs.frozen
class Placement:
    """Where a person stands in the image: body height (m), pixels per metre, foot position."""

    height: float
    scale: float
    centre_x: float
    ground_y: float


def _project(world: np.ndarray, place: Placement) -> np.ndarray:
    """Pixel coordinates ``[..., 2]`` of world points ``[..., 3]`` (weak perspective)."""
    zoom = place.scale * DEPTH / (DEPTH - world[..., 2])
    return np.stack([place.centre_x + zoom * world[..., 0], place.ground_y - zoom * world[..., 1]], -1)


def _person(motion: Motion, place: Placement, joints: tuple[str, ...], rng: np.random.Generator,
            noise: float) -> np.ndarray:
    """``[T, V, 3]`` jittered world coordinates of ``joints`` (metres)."""
    world = body_joints(motion, place.height)
    points = np.stack([world[j] for j in joints], axis=1)
    return points + rng.normal(0, noise * place.height, points.shape)


def _main_placement(rng: np.random.Generator, label: str, travel: float) -> Placement:
    """Near the middle of the frame (walks centred on their path), so that what differs between
    samples is mostly the pose, as in data sets filmed to record actions."""
    height = rng.uniform(1.55, 1.9)
    scale = rng.uniform(190, 250) / height
    centre = IMG_SHAPE[1] / 2 + rng.uniform(-40, 40)
    if label.startswith("walk"):
        centre -= (1 if label == "walk_right" else -1) * travel * height * scale / 2
    return Placement(height, scale, centre, rng.uniform(400, 440))


@attrs.frozen(eq=False)
class _Person:
    world: np.ndarray
    """``[T, V, 3]`` jittered joint positions in metres."""
    place: Placement
    confidence: float
    visible: np.ndarray
    """bool ``[T]``: frames the person is in."""


def _bystander(frames: int, main: Placement, joints: tuple[str, ...], rng: np.random.Generator) -> _Person:
    """An idle person swaying on the other side of the frame, for all or part of the clip."""
    idle = Motion.standing(frames, rng.uniform(-1.2, 1.2))
    sway = 0.05 * np.sin(_phase(frames, rng, (0.5, 1.0)))
    for side in SIDES:
        e1, a1, e2, a2 = idle.arm[side]
        idle.arm[side] = (e1 + sway, a1, e2 + sway, a2)
    side = 1 if rng.random() < 0.5 else -1
    place = Placement(rng.uniform(1.55, 1.9), main.scale * rng.uniform(0.6, 0.85),
                      main.centre_x + side * rng.uniform(170, 230), main.ground_y - rng.uniform(10, 40))
    start = int(rng.integers(0, frames // 2)) if rng.random() < 0.5 else 0
    stop = int(rng.integers(frames // 2 + 1, frames + 1)) if rng.random() < 0.5 else frames
    visible = np.zeros(frames, bool)
    visible[start:stop] = True
    return _Person(_person(idle, place, joints, rng, 0.008), place, 0.7, visible)


def render_sample(label: int, rng: np.random.Generator, layout: str) -> tuple[np.ndarray, np.ndarray | None]:
    """One sample: ``keypoint [M, T, V, C]`` (float32) and, for 2D, ``keypoint_score [M, T, V]``."""
    name, act, _ = ACTIONS[label]
    joints = LAYOUT_JOINTS[layout]
    frames = int(rng.integers(40, 81))
    motion = Motion.standing(frames, rng.normal(0, 0.2))
    act(motion, rng)
    place = _main_placement(rng, name, float(motion.travel[-1]))
    people = [_Person(_person(motion, place, joints, rng, 0.008), place, 1.0, np.ones(frames, bool))]
    if rng.random() < 0.35:
        people.append(_bystander(frames, place, joints, rng))
    if layout == "nturgb+d":  # Kinect camera coordinates: x right, y up, z away from the camera
        kp = np.zeros((len(people), frames, len(joints), 3), np.float32)
        for m, person in enumerate(people):
            w = person.world
            kp[m] = np.stack([w[..., 0], w[..., 1] - 1.0, DEPTH - w[..., 2]], -1)
            kp[m, ~person.visible] = 0
        return kp, None
    kp = np.zeros((len(people), frames, len(joints), 2), np.float32)
    score = np.zeros(kp.shape[:3], np.float32)
    for m, person in enumerate(people):
        kp[m] = _project(person.world, person.place)
        score[m] = person.confidence * rng.uniform(0.55, 1.0, score.shape[1:])
        missing = rng.random(score.shape[1:]) < 0.03
        if rng.random() < 0.3:  # one joint hidden for a stretch of frames
            first = int(rng.integers(0, frames - 10))
            missing[first:first + 10, int(rng.integers(len(joints)))] = True
        missing[~person.visible] = True
        kp[m][missing], score[m][missing] = 0, 0
    return kp, score


def _readme(seed: int, size: str, layout: str, per_class: Mapping[str, int]) -> str:
    classes = "\n".join(f"  {i} {name:<11} {text}" for i, (name, _, text) in enumerate(ACTIONS))
    coords = ("COCO-17 keypoints in pixels of a 640x480 frame, with scores" if layout == "coco"
              else "NTU RGB+D 25-joint camera coordinates in metres")
    return f"""{SYNTH_MARKER}: skeleton (seed {seed}, size {size}, layout {layout})

{per_class['train']}/{per_class['val']}/{per_class['test']} train/val/test samples per class, 40-80 frames each:
{coords}. About a third of the samples show an idle second person for part of the clip;
joints jitter, and in 2D about 3% of the joints are missing (coordinates and score 0).
Regenerate with: actioncore data synth skeleton --out DIR --seed {seed}

Layout: poses/ is a pose store (actioncore-pose): point a config's `ann_file` at
DIR/poses/index.json (or `root` at DIR/poses and `ann_file` at index.json) and set `split` to
train, val or test. classes.txt: line i is the name of label i.

Classes:
{classes}

A horizontal flip turns walk_left into walk_right and back: flip with flip_label_map {{4 = 5, 5 = 4}}.
"""


def synth_skeleton(out: Path, *, seed: int = 0, size: str = "default", layout: str = "coco") -> SynthReport:
    """Stick figures doing 8 actions, as a pose store of COCO-17 2D keypoints or NTU RGB+D 3D joints.
    Sizes: tiny, default; layouts: coco, nturgb+d.

    See the module docstring for the files.
    """
    seed = check_seed(seed)
    if size not in SIZES:
        raise DataError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    if layout not in LAYOUT_JOINTS:
        raise DataError(f"unknown layout {layout!r} for the skeleton data set; choose coco or nturgb+d")
    per_class = SIZES[size].per_class
    out = Path(out)
    prepare_out(out, ["poses", "classes.txt", "README.txt"])
    records, splits = [], {}
    for split_no, split in enumerate(SPLITS):
        names = []
        for index in range(per_class[split]):
            for label in range(len(ACTIONS)):
                rng = np.random.default_rng([seed, split_no, index, label])
                keypoint, score = render_sample(label, rng, layout)
                name = f"{split}/{CLASSES[label]}_{index:04d}"
                records.append(PoseRecord(name, label, IMG_SHAPE, keypoint, score, IMG_SHAPE))
                names.append(name)
        splits[split] = names
    write_store(out / "poses", records, splits=splits, layout=layout)
    (out / "classes.txt").write_text("".join(f"{c}\n" for c in CLASSES))
    (out / "README.txt").write_text(_readme(seed, size, layout, per_class))
    store_files = ["poses/index.json", "poses/keypoint.npy"] + (["poses/keypoint_score.npy"] if layout == "coco" else [])
    index = out / "poses" / "index.json"
    return SynthReport(kind="skeleton", root=out, seed=seed, classes=CLASSES, motion_only=(),
                       num_samples={s: per_class[s] * len(ACTIONS) for s in SPLITS}, data_prefix=out / "poses",
                       ann_files={s: index for s in SPLITS},
                       files=tuple(Path(f) for f in [*store_files, "classes.txt", "README.txt"]))
