"""Skeleton graphs: the adjacency matrices the GCNs convolve with.

A layout is a tree of joints given by its ``inward`` edges ``(joint, neighbour closer to the
center)`` and a center joint; the named ones (COCO-17, NTU RGB+D 25, OpenPose-18) come from
actioncore-pose's layout table, shared with the data pipeline. A mode turns it into ``K``
adjacency matrices ``[K, V, V]`` (one per neighbour subset), in MMAction2 1.2.0's convention:
entry ``[k, j, i]`` weighs what joint ``j`` sends to joint ``i`` in subset ``k``, and every
column is normalised to sum 1, so a joint averages over its neighbours of a subset.
"""
from __future__ import annotations

from typing import Literal

import attrs
import numpy as np
from actioncore_pose import LAYOUTS, get_layout

LayoutName = Literal["coco", "nturgb+d", "openpose", "custom"]
GraphMode = Literal["spatial", "stgcn_spatial", "binary_adj"]

Edge = tuple[int, int]
NAMED_LAYOUTS = tuple(LAYOUTS)


@attrs.frozen
class GraphLayout:
    """Joints and the tree that links them, each edge pointing towards ``center``."""

    num_node: int
    inward: tuple[Edge, ...]
    center: int

    def __attrs_post_init__(self) -> None:
        if self.num_node < 1:
            raise ValueError(f"a skeleton layout needs at least one joint, got num_node = {self.num_node}")
        if not 0 <= self.center < self.num_node:
            raise ValueError(f"layout center {self.center} is not a joint index 0 to {self.num_node - 1}")
        bad = [edge for edge in self.inward
               if len(edge) != 2 or not all(0 <= j < self.num_node for j in edge) or edge[0] == edge[1]]
        if bad:
            raise ValueError(f"layout edges {bad} are not pairs of two different joint indices "
                             f"0 to {self.num_node - 1}")

    @classmethod
    def named(cls, name: str) -> GraphLayout:
        """A layout of actioncore-pose's table (``coco``, ``nturgb+d``, ``openpose``), the one the
        data pipeline uses for bones and flips too."""
        layout = get_layout(name)
        return cls(layout.num_joints, tuple(layout.inward), layout.center)

    @property
    def outward(self) -> tuple[Edge, ...]:
        return tuple((j, i) for i, j in self.inward)


def adjacency(edges: tuple[Edge, ...], num_node: int) -> np.ndarray:
    """``[V, V]`` with 1 at ``[target, source]`` for each edge ``(source, target)``."""
    matrix = np.zeros((num_node, num_node))
    for source, target in edges:
        matrix[target, source] = 1
    return matrix


def normalize_columns(matrix: np.ndarray) -> np.ndarray:
    """Each column divided by its sum; all-zero columns stay zero."""
    sums = matrix.sum(axis=0)
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return matrix * scale[None, :]


def hop_distances(layout: GraphLayout, max_hop: int) -> np.ndarray:
    """Path lengths between joints in the undirected tree; ``inf`` beyond ``max_hop``."""
    n = layout.num_node
    step = np.eye(n) + adjacency(layout.inward, n) + adjacency(layout.outward, n)
    distance = np.full((n, n), np.inf)
    reach = np.eye(n)
    distance[reach > 0] = 0
    for hop in range(1, max_hop + 1):
        reach = reach @ step
        distance[(reach > 0) & np.isinf(distance)] = hop
    return distance


def spatial_partition(layout: GraphLayout, max_hop: int) -> np.ndarray:
    """ST-GCN's spatial configuration partitioning: ``2 * max_hop + 1`` subsets.

    The neighbours of a joint within ``max_hop`` are normalised once, then split by hop and
    by whether the neighbour is at least as far from the center as the joint (root and
    centripetal vs. centrifugal groups). As in the ST-GCN reference code and MMAction2, the
    distance to the center is the capped one of :func:`hop_distances`, so joints more than
    ``max_hop`` away from the center all count as equally far.
    """
    distance = hop_distances(layout, max_hop)
    neighbourhood = normalize_columns((distance <= max_hop).astype(float))
    to_center = distance[:, layout.center]
    # [j, i]: is joint j (sender) at least as far from the center as joint i (receiver)?
    sender_not_closer = to_center[:, None] >= to_center[None, :]
    subsets = []
    for hop in range(max_hop + 1):
        at_hop = distance == hop
        subsets.append(np.where(at_hop & sender_not_closer, neighbourhood, 0.0))
        if hop > 0:
            subsets.append(np.where(at_hop & ~sender_not_closer, neighbourhood, 0.0))
    return np.stack(subsets)


def directed_partition(layout: GraphLayout) -> np.ndarray:
    """Self links, inward and outward edges, each normalised: 3 subsets (2s-AGCN, AAGCN)."""
    n = layout.num_node
    return np.stack((np.eye(n), normalize_columns(adjacency(layout.inward, n)),
                     normalize_columns(adjacency(layout.outward, n))))


class Graph:
    """A skeleton graph: a layout and the adjacency ``A`` of shape ``[K, V, V]`` of a mode.

    :param layout: ``coco`` (17 joints), ``nturgb+d`` (25), ``openpose`` (18) or ``custom``
        (give ``num_node``, the ``inward`` edges ``(joint, neighbour closer to the center)``
        and ``center``; ignored for the named layouts).
    :param mode: ``stgcn_spatial`` (ST-GCN's spatial partitioning), ``spatial`` (self, inward,
        outward) or ``binary_adj`` (one undirected 0/1 matrix without self links).
    :param max_hop: neighbourhood radius of ``stgcn_spatial``.
    """

    def __init__(self, layout: LayoutName = "coco", mode: GraphMode = "spatial", max_hop: int = 1, *,
                 num_node: int = 0, inward: tuple[Edge, ...] = (), center: int = 0):
        if layout == "custom":
            if num_node < 1 or not inward:
                raise ValueError("a custom graph layout needs num_node and inward edges (and center, "
                                 "default 0)")
            self.layout = GraphLayout(num_node, tuple(tuple(edge) for edge in inward), center)
        elif layout in NAMED_LAYOUTS:
            self.layout = GraphLayout.named(layout)
        else:
            raise ValueError(f"unknown graph layout {layout!r}; one of {', '.join(NAMED_LAYOUTS)} "
                             "or 'custom'")
        if max_hop < 1:
            raise ValueError(f"graph max_hop must be at least 1, got {max_hop}")
        self.layout_name = layout
        self.mode = mode
        self.max_hop = max_hop
        if mode == "stgcn_spatial":
            self.A = spatial_partition(self.layout, max_hop)
        elif mode == "spatial":
            self.A = directed_partition(self.layout)
        elif mode == "binary_adj":
            n = self.layout.num_node
            self.A = (adjacency(self.layout.inward, n) + adjacency(self.layout.outward, n))[None]
        else:
            raise ValueError(f"unknown graph mode {mode!r}; one of 'spatial', 'stgcn_spatial', "
                             "'binary_adj'")

    @property
    def num_node(self) -> int:
        return self.layout.num_node

    @property
    def num_subsets(self) -> int:
        return self.A.shape[0]


@attrs.frozen
class GraphCfg:
    """The ``graph_cfg`` table of a GCN backbone: see :class:`Graph` for the fields."""

    layout: LayoutName = "coco"
    mode: GraphMode = "spatial"
    max_hop: int = 1
    # a custom layout only (TOML has no null: 0 and [] stand for "not given")
    num_node: int = 0
    inward: tuple[Edge, ...] = ()
    center: int = 0

    def build(self) -> Graph:
        return Graph(self.layout, self.mode, self.max_hop, num_node=self.num_node,
                     inward=self.inward, center=self.center)
