"""The files between BSN's stages and PEM's ``bsn_proposals`` data: contents and bad input."""
import json

import numpy as np
import pytest

from actioncore import load_config
from actioncore.sdk.data import build_split, collate
from actioncore.sdk import DataError
from actioncore_bsn import ProposalAnnotation
from actioncore_bsn_pgm import ProposalTable, read_proposals, read_tem_result, write_bsp_features, write_proposals

pytestmark = pytest.mark.actioncore_plugins("actioncore_bsn.hooks", "actioncore_localization.hooks")


def table(n: int, offset: float = 0.0) -> ProposalTable:
    column = np.linspace(0.1, 0.9, n) + offset
    return ProposalTable(tmin=column * 0.5, tmax=column, tmin_score=column, tmax_score=column,
                         score=column ** 2, match_iou=column, match_ioa=column)


def write_set(root, videos: dict[str, int], feat_dim: int = 4) -> str:
    """PGM outputs for ``{video: proposals}`` under ``root`` and an annotation file naming them."""
    database = {}
    for name, n in videos.items():
        write_proposals(root / "pgm_proposals" / f"{name}.csv", table(n))
        write_bsp_features(root / "pgm_features" / f"{name}.npy", np.full((n, feat_dim), n, dtype=np.float32))
        database[name] = {"duration_second": 10.0, "duration_frame": 160, "feature_frame": 160, "fps": 16.0,
                          "annotations": [{"segment": [1.0, 4.0], "label": "a"}]}
    ann_file = root / "ann.json"
    ann_file.write_text(json.dumps(database))
    return str(ann_file)


def experiment(tmp_path, ann_file: str, top_k: int, feat_dim: int = 4):
    path = tmp_path / "pem.toml"
    path.write_text(f"""
[data.train]
type = "bsn_proposals"
ann_file = {json.dumps(ann_file)}
root = {json.dumps(str(tmp_path))}
pipeline = [{{ type = "load_bsn_proposals", top_k = {top_k}, feat_dim = {feat_dim} }}]
""")
    return load_config(path)


def test_tem_results_and_proposals_round_trip_in_mmaction2s_layout(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("action,start,end,tmin,tmax\n0.1,0.2,0.3,0.0,0.5\n0.4,0.5,0.6,0.5,1.0\n")
    tem = read_tem_result(path)
    assert tem.start.tolist() == [0.2, 0.5] and tem.tmax.tolist() == [0.5, 1.0]
    write_proposals(tmp_path / "p.csv", table(5))
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "tmin,tmax,tmin_score,tmax_score,score,match_iou,match_ioa"
    again = read_proposals(tmp_path / "p.csv", top_k=3)
    np.testing.assert_allclose(again.as_array(), table(5).as_array()[:3])


@pytest.mark.parametrize("text, message", [
    (None, "TEM result file not found"),
    ("action,start,end\n0.1,0.2,0.3\n0.1,0.2,0.3\n", "expected 'action,start,end,tmin,tmax'"),
    ("action,start,end,tmin,tmax\n0.1,0.2,0.3,0,0.5\n", "at least 2 locations"),
    ("action,start,end,tmin,tmax\n0.1,x,0.3,0,0.5\n0.1,0.2,0.3,0.5,1\n", "cannot read"),
    ("action,start,end,tmin,tmax\n0.1,nan,0.3,0,0.5\n0.1,0.2,0.3,0.5,1\n", "finite numbers"),
])
def test_bad_tem_results_name_the_file(tmp_path, text, message):
    path = tmp_path / "v_bad.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        read_tem_result(path)
    assert "v_bad.csv" in str(info.value)


def test_proposal_data_pads_features_and_carries_the_proposals(actioncore_host, tmp_path):
    ann_file = write_set(tmp_path, {"v_a": 3, "v_b": 7})
    dataset = build_split(experiment(tmp_path, ann_file, top_k=5), "train")
    batch = collate([dataset[0], dataset[1]])
    assert batch["inputs"].shape == (2, 5, 4)
    assert batch["inputs"][0, :3].eq(3).all() and batch["inputs"][0, 3:].eq(0).all()  # padded
    assert batch["inputs"][1].eq(7).all()  # cut to top_k
    first, second = batch["labels"]
    assert isinstance(first, ProposalAnnotation) and first.video_name == "v_a"
    assert len(first.proposals) == 3 and len(second.proposals) == 5
    np.testing.assert_allclose(second.proposals.match_iou, table(7).match_iou[:5])
    np.testing.assert_allclose(first.segments, [[1.0, 4.0]])


def test_proposal_data_bad_input_is_a_data_error_naming_the_file(actioncore_host, tmp_path):
    ann_file = write_set(tmp_path, {"v_a": 3, "v_b": 4})
    dataset = build_split(experiment(tmp_path, ann_file, top_k=5, feat_dim=6), "train")
    with pytest.raises(DataError, match="v_a.csv: its BSP features have 4 values, expected feat_dim = 6"):
        dataset[0]
    (tmp_path / "pgm_features" / "v_b.npy").unlink()
    dataset = build_split(experiment(tmp_path, ann_file, top_k=5), "train")
    with pytest.raises(DataError, match=r"v_b.npy: BSP feature file not found"):
        dataset[1]
    write_bsp_features(tmp_path / "pgm_features" / "v_b.npy", np.zeros((9, 4)))
    with pytest.raises(DataError, match="9 BSP features for 4 proposals"):
        dataset[1]


def test_blank_probe_gets_a_stand_in_video_that_pem_can_train_on():
    # what `actioncore info` and `bench model` build their batch from
    from actioncore.sdk.data import Pipeline
    from actioncore.sdk.data import probe
    from actioncore_bsn import LoadBSNProposals, PEM

    batch = collate([probe(Pipeline([LoadBSNProposals(top_k=6, feat_dim=32)]))])
    assert batch["inputs"].shape == (1, 6, 32) and not batch["inputs"].any()
    label = batch["labels"][0]
    assert isinstance(label, ProposalAnnotation) and len(label.proposals) == 6
    loss = PEM().loss(PEM()(batch["inputs"]), batch["labels"])["loss"]
    assert float(loss.detach()) > 0.0


def test_data_check_reads_the_feature_rows(actioncore_host, tmp_path):
    from actioncore_bsn import ProposalDecoder

    write_set(tmp_path, {"v_a": 3})
    with ProposalDecoder().open(tmp_path / "pgm_proposals" / "v_a.csv") as reader:
        assert reader.num_frames == 3 and reader.read([0, 2]).shape == (2, 4)
        with pytest.raises(DataError, match="proposal 3 is out of range"):
            reader.read([3])
