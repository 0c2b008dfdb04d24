"""Skeleton layouts: joint names, graph edges, bones, left/right pairs and limbs of each keypoint set.

One table shared by the data side (bone streams, flips, heatmap limbs) and the models (ST-GCN and
AAGCN build their adjacency from ``inward`` and ``center``). The numbers are MMAction2 1.2.0's
(``mmaction.models.utils.graph.Graph``, ``JointToBone``, ``GeneratePoseTarget``), so weights and
features trained there mean the same here. Standard library only, so that any plugin may import it.

Names: ``coco`` (COCO-17, 2D from a pose estimator), ``nturgb+d`` (NTU RGB+D 25 Kinect joints,
3D) and ``openpose`` (OpenPose-18, 2D), as MMAction2 spells them; ``coco17``, ``ntu``, ``ntu25``
and ``openpose18`` are accepted too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

Edge = tuple[int, int]

__all__ = ["COCO", "LAYOUTS", "NTU_RGBD", "OPENPOSE", "Layout", "get_layout", "layout_names"]


@dataclass(frozen=True)
class Layout:
    """One keypoint set and the skeleton drawn over it (all indices 0-based)."""

    name: str
    joint_names: tuple[str, ...]
    coords: int
    """Coordinates per joint in the usual data: 2 (x, y in pixels) or 3 (x, y, z in metres)."""
    inward: tuple[Edge, ...]
    """Graph edges ``(child, parent)`` pointing towards ``center`` (MMAction2's ``Graph.inward``)."""
    center: int
    """The joint the ST-GCN spatial partition measures distances from."""
    bone_pairs: tuple[Edge, ...]
    """``(v, w)``: bone ``v`` is joint ``v`` minus joint ``w`` (MMAction2's ``JointToBone.pairs``);
    one pair per joint, the root paired with itself so its bone is zero."""
    left: tuple[int, ...]
    right: tuple[int, ...]
    """``left[i]`` and ``right[i]`` swap places under a horizontal flip."""
    limbs: tuple[Edge, ...]
    """Joint pairs drawn as limb heatmaps by PoseC3D (``GeneratePoseTarget.skeletons``)."""
    left_limbs: tuple[int, ...]
    right_limbs: tuple[int, ...]
    """Indices into ``limbs`` that swap under a horizontal flip."""
    aliases: tuple[str, ...] = field(default=())

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def outward(self) -> tuple[Edge, ...]:
        return tuple((j, i) for i, j in self.inward)

    @property
    def neighbor(self) -> tuple[Edge, ...]:
        return self.inward + self.outward

    def flip_order(self) -> list[int]:
        """Joint order after a horizontal flip: ``keypoints[..., order, :]`` swaps left and right."""
        return _swap_order(self.num_joints, self.left, self.right)

    def limb_flip_order(self) -> list[int]:
        """Limb-heatmap channel order after a horizontal flip."""
        return _swap_order(len(self.limbs), self.left_limbs, self.right_limbs)

    def __post_init__(self) -> None:
        n = self.num_joints
        problems = []
        if not 0 <= self.center < n:
            problems.append(f"center {self.center}")
        for what, pairs in (("inward", self.inward), ("bone_pairs", self.bone_pairs), ("limbs", self.limbs)):
            problems += [f"{what} {p}" for p in pairs if not all(0 <= v < n for v in p)]
        if len(self.left) != len(self.right) or len(self.left_limbs) != len(self.right_limbs):
            problems.append("left and right lists of different lengths")
        if sorted(v for v, _ in self.bone_pairs) != list(range(n)):
            problems.append("bone_pairs must name every joint once")
        if problems:
            raise ValueError(f"layout {self.name!r}: out of range or inconsistent: {', '.join(problems)}")


def _swap_order(size: int, left: tuple[int, ...], right: tuple[int, ...]) -> list[int]:
    order = list(range(size))
    for a, b in zip(left, right):
        order[a], order[b] = b, a
    return order


def _mirror_limbs(limbs: tuple[Edge, ...], left: tuple[int, ...], right: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Pairs of limbs that map onto each other when left and right joints swap."""
    swap = dict(zip(left, right)) | dict(zip(right, left))
    index = {frozenset(limb): i for i, limb in enumerate(limbs)}
    lefts, rights = [], []
    for i, (a, b) in enumerate(limbs):
        j = index.get(frozenset((swap.get(a, a), swap.get(b, b))))
        if j is not None and j > i:
            lefts.append(i)
            rights.append(j)
    return tuple(lefts), tuple(rights)


COCO = Layout(
    name="coco",
    joint_names=("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                 "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                 "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"),
    coords=2,
    inward=((15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8),
            (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)),
    center=0,
    bone_pairs=((0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7),
                (10, 8), (11, 0), (12, 0), (13, 11), (14, 12), (15, 13), (16, 14)),
    left=(1, 3, 5, 7, 9, 11, 13, 15),
    right=(2, 4, 6, 8, 10, 12, 14, 16),
    limbs=((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10),
           (5, 11), (11, 13), (13, 15), (6, 12), (12, 14), (14, 16), (11, 12)),
    # MMAction2's GeneratePoseTarget defaults (what _mirror_limbs derives for the other layouts)
    left_limbs=(0, 2, 4, 5, 6, 10, 11, 12),
    right_limbs=(1, 3, 7, 8, 9, 13, 14, 15),
    aliases=("coco17", "coco-17"),
)

_NTU_NEIGHBOURS_1_BASED = ((1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7),
                           (9, 21), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14),
                           (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 8), (23, 8),
                           (24, 12), (25, 12))
_NTU_INWARD = tuple((i - 1, j - 1) for i, j in _NTU_NEIGHBOURS_1_BASED)
_NTU_LEFT = (4, 5, 6, 7, 12, 13, 14, 15, 21, 22)
_NTU_RIGHT = (8, 9, 10, 11, 16, 17, 18, 19, 23, 24)

NTU_RGBD = Layout(
    name="nturgb+d",
    joint_names=("spine_base", "spine_mid", "neck", "head", "left_shoulder", "left_elbow",
                 "left_wrist", "left_hand", "right_shoulder", "right_elbow", "right_wrist",
                 "right_hand", "left_hip", "left_knee", "left_ankle", "left_foot", "right_hip",
                 "right_knee", "right_ankle", "right_foot", "spine_shoulder", "left_hand_tip",
                 "left_thumb", "right_hand_tip", "right_thumb"),
    coords=3,
    inward=_NTU_INWARD,
    center=20,
    # exactly MMAction2's list, including (0, 1) and (21, 22), which point away from the root
    bone_pairs=((0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20),
                (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14), (16, 0),
                (17, 16), (18, 17), (19, 18), (21, 22), (20, 20), (22, 7), (23, 24), (24, 11)),
    left=_NTU_LEFT,
    right=_NTU_RIGHT,
    limbs=_NTU_INWARD,
    left_limbs=_mirror_limbs(_NTU_INWARD, _NTU_LEFT, _NTU_RIGHT)[0],
    right_limbs=_mirror_limbs(_NTU_INWARD, _NTU_LEFT, _NTU_RIGHT)[1],
    aliases=("ntu", "ntu25", "ntu-rgb+d", "nturgbd"),
)

_OPENPOSE_INWARD = ((4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5),
                    (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14))
_OPENPOSE_LEFT = (5, 6, 7, 11, 12, 13, 15, 17)
_OPENPOSE_RIGHT = (2, 3, 4, 8, 9, 10, 14, 16)

OPENPOSE = Layout(
    name="openpose",
    joint_names=("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
                 "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
                 "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear"),
    coords=2,
    inward=_OPENPOSE_INWARD,
    center=1,
    bone_pairs=((0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5), (7, 6), (8, 2), (9, 8),
                (10, 9), (11, 5), (12, 11), (13, 12), (14, 0), (15, 0), (16, 14), (17, 15)),
    left=_OPENPOSE_LEFT,
    right=_OPENPOSE_RIGHT,
    limbs=_OPENPOSE_INWARD,
    left_limbs=_mirror_limbs(_OPENPOSE_INWARD, _OPENPOSE_LEFT, _OPENPOSE_RIGHT)[0],
    right_limbs=_mirror_limbs(_OPENPOSE_INWARD, _OPENPOSE_LEFT, _OPENPOSE_RIGHT)[1],
    aliases=("openpose18", "openpose-18"),
)

LAYOUTS = MappingProxyType({layout.name: layout for layout in (COCO, NTU_RGBD, OPENPOSE)})
"""Every layout by its MMAction2 name."""

_BY_ANY_NAME = {alias: layout for layout in LAYOUTS.values() for alias in (layout.name, *layout.aliases)}


def layout_names() -> tuple[str, ...]:
    """Every accepted spelling, canonical names first."""
    return tuple(LAYOUTS) + tuple(a for layout in LAYOUTS.values() for a in layout.aliases)


def get_layout(name: str | Layout) -> Layout:
    """The layout called ``name`` (case-insensitive; aliases accepted); ValueError listing the names."""
    if isinstance(name, Layout):
        return name
    layout = _BY_ANY_NAME.get(str(name).lower())
    if layout is None:
        raise ValueError(f"unknown skeleton layout {name!r}; known layouts: {', '.join(layout_names())}")
    return layout
