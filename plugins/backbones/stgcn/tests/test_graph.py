"""The skeleton graphs: layouts are trees, and each mode's adjacency has MMAction2's values."""
import numpy as np
import pytest

from actioncore_stgcn.graph import Graph, GraphCfg, GraphLayout, hop_distances

JOINTS = {"coco": 17, "nturgb+d": 25, "openpose": 18}


@pytest.mark.parametrize("name", sorted(JOINTS))
def test_layouts_are_trees_around_their_center(name):
    layout = GraphLayout.named(name)
    assert layout.num_node == JOINTS[name]
    assert len(layout.inward) == layout.num_node - 1
    # connected: every joint reaches every other within num_node hops
    assert np.isfinite(hop_distances(layout, layout.num_node)).all()


def test_spatial_partition_of_a_three_joint_chain():
    # 0 - 1 - 2 centered on 1: each joint averages over itself and its neighbours; the subsets
    # are the joint itself, the neighbours at least as far from the center (centrifugal) and
    # those closer (centripetal)
    graph = Graph("custom", "stgcn_spatial", num_node=3, inward=((0, 1), (2, 1)), center=1)
    third, half = 1 / 3, 1 / 2
    expected = np.array([
        [[half, 0, 0], [0, third, 0], [0, 0, half]],
        [[0, third, 0], [0, 0, 0], [0, third, 0]],
        [[0, 0, 0], [half, 0, half], [0, 0, 0]],
    ])
    np.testing.assert_allclose(graph.A, expected)


@pytest.mark.parametrize("name", sorted(JOINTS))
@pytest.mark.parametrize("max_hop", [1, 2])
def test_spatial_partition_splits_a_normalised_neighbourhood(name, max_hop):
    graph = Graph(name, "stgcn_spatial", max_hop)
    assert graph.A.shape == (2 * max_hop + 1, JOINTS[name], JOINTS[name])
    np.testing.assert_allclose(graph.A.sum(axis=(0, 1)), np.ones(JOINTS[name]))
    # the subsets do not overlap
    assert ((graph.A > 0).sum(axis=0) <= 1).all()


def test_directed_partition_of_coco():
    graph = Graph("coco", "spatial")
    identity, inward, outward = graph.A
    np.testing.assert_array_equal(identity, np.eye(17))
    # every joint but the nose sends to its one parent; the nose receives from its 4 children
    np.testing.assert_allclose(inward.sum(axis=0), [0] + [1] * 16)
    np.testing.assert_allclose(outward[:, 0][[1, 2, 5, 6]], [0.25] * 4)
    assert outward[:, 0].sum() == pytest.approx(1)
    # left ankle (15) hangs from the left knee (13)
    assert inward[13, 15] == 1 and outward[15, 13] == 1


def test_binary_adjacency_is_symmetric_without_self_links():
    adjacency = Graph("openpose", "binary_adj").A
    assert adjacency.shape == (1, 18, 18)
    np.testing.assert_array_equal(adjacency[0], adjacency[0].T)
    assert adjacency[0].trace() == 0 and adjacency.sum() == 2 * 17


def test_graph_cfg_builds_and_rejects_bad_layouts():
    assert GraphCfg(layout="nturgb+d", mode="stgcn_spatial").build().num_subsets == 3
    with pytest.raises(ValueError, match="needs num_node and inward edges"):
        Graph("custom", "spatial", num_node=3)
    with pytest.raises(ValueError, match=r"\(0, 5\)"):
        Graph("custom", "spatial", num_node=3, inward=((0, 5),), center=0)
    with pytest.raises(ValueError, match="unknown graph layout"):
        Graph("kinect", "spatial")
    with pytest.raises(ValueError, match="unknown graph mode"):
        Graph("coco", "agcn")
