"""recognizer_gcn's folding and clip averaging, the skeleton task's outputs, predictions and fusion."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from actioncore.cli import main
from actioncore.sdk.weights import convert_state, load_into
from actioncore.sdk import DataError
from actioncore.testing import assert_component_contract
from actioncore_recognition import MeanClassAccuracy, TopKAccuracy
from actioncore_recognition import RecognitionAdapter
from actioncore_skeleton.task import SkeletonTask, record_references

pytestmark = pytest.mark.actioncore_plugins("actioncore_skeleton.hooks", "actioncore_stgcn.hooks",
                                            "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
                                            "actioncore_pose.hooks")

TINY_STGCN = {"type": "stgcn", "graph_cfg": {"layout": "coco", "mode": "stgcn_spatial"}, "base_channels": 8,
              "num_stages": 2, "inflate_stages": [2], "down_stages": [2]}


class ClipFeatures(nn.Module):
    """Stands in for a GCN backbone: [B, M, T, V, C] -> [B, M, C, T, V], remembering its input shape."""

    def forward(self, x):
        self.seen = tuple(x.shape)
        return x.permute(0, 1, 4, 2, 3)


class FirstValueHead(nn.Module):
    """Scores a clip (2 classes) by the first value of its features: logits (v, -v)."""

    def forward(self, x):
        v = x[:, 0, 0, 0, 0]
        return torch.stack([v, -v], dim=1)


def stub_recognizer(host, average_clips="prob"):
    model = assert_component_contract(host, "model", "recognizer_gcn",
                                      {"backbone": TINY_STGCN, "head": {"type": "gcn", "num_classes": 2,
                                                                        "in_channels": 16}})
    model.backbone, model.head, model.average_clips = ClipFeatures(), FirstValueHead(), average_clips
    return model


def clips(values):
    """Inputs [N, clips, M=2, T=3, V=17, C=3] whose clip (n, k) has first value values[n][k]."""
    x = torch.zeros(len(values), len(values[0]), 2, 3, 17, 3)
    x[:, :, 0, 0, 0, 0] = torch.tensor(values, dtype=torch.float32)
    return x


def test_clips_are_folded_for_the_backbone_and_averaged_per_sample(actioncore_host):
    model = stub_recognizer(actioncore_host, "score").eval()
    out = model(clips([[1.0, 2.0, 6.0], [-4.0, 1.0, 0.0]]))
    assert model.backbone.seen == (6, 2, 3, 17, 3)
    assert torch.allclose(out, torch.tensor([[3.0, -3.0], [-1.0, 1.0]]))
    model.average_clips = "prob"
    p = torch.sigmoid(2 * torch.tensor([1.0, 2.0, 6.0])).mean()  # softmax of (v, -v) puts sigmoid(2v) first
    assert torch.allclose(model(clips([[1.0, 2.0, 6.0]]))[0], torch.stack([p, 1 - p]))
    model.train()  # the loss sees logits averaged by score
    assert torch.allclose(model(clips([[1.0, 2.0, 6.0]])), torch.tensor([[3.0, -3.0]]))


def test_a_single_clip_without_its_axis_and_wrong_ranks(actioncore_host):
    model = stub_recognizer(actioncore_host).eval()
    assert model(torch.zeros(4, 2, 3, 17, 3)).shape == (4, 2)
    with pytest.raises(ValueError, match=r"recognizer_gcn expects skeletons \[N, num_clips, M, T, V, C\]"):
        model(torch.zeros(2, 3, 17, 3))


def test_real_backbone_and_head_shapes(actioncore_host):
    model = assert_component_contract(actioncore_host, "model", "recognizer_gcn",
                                      {"backbone": TINY_STGCN, "head": {"type": "gcn", "num_classes": 5,
                                                                        "in_channels": 16}}).eval()
    out = model(torch.randn(3, 2, 2, 8, 17, 3))
    assert out.shape == (3, 5) and torch.allclose(out.sum(1), torch.ones(3), atol=1e-5)


def test_mmaction2_key_names_convert(actioncore_host):
    model = assert_component_contract(actioncore_host, "model", "recognizer_gcn",
                                      {"backbone": TINY_STGCN, "head": {"type": "gcn", "num_classes": 5,
                                                                        "in_channels": 16}})
    theirs = {("cls_head." + k[5:] if k.startswith("head.") else k): torch.randn_like(v) if v.is_floating_point() else v
              for k, v in model.state_dict().items()}
    theirs["data_preprocessor.mean"] = torch.zeros(3)
    converted = convert_state(model, theirs)
    load_into(model, converted, "mmaction2.pth")
    assert torch.equal(model.head.fc.weight, theirs["cls_head.fc.weight"])


def multi_clip_outputs(actioncore_host):
    """Sample 0's first clip says class 1, its other two class 0: only averaging gets it right."""
    model = stub_recognizer(actioncore_host).eval()
    adapter = RecognitionAdapter.__new__(RecognitionAdapter)  # no experiment needed for these paths
    adapter.task, adapter.experiment, adapter.num_classes = SkeletonTask(), None, 2
    adapter.metrics = [TopKAccuracy(topk=(1,)), MeanClassAccuracy()]
    batch = {"inputs": clips([[-1.0, 2.0, 3.0], [-2.0, -1.0, 1.0]]), "labels": torch.tensor([0, 1]),
             "indices": torch.tensor([0, 1]), "sources": ["s#a", "s#b"], "normalize": None}
    return adapter, adapter.eval_step(model, batch, torch.device("cpu"))


def test_metrics_count_the_clip_average(actioncore_host):
    adapter, outputs = multi_clip_outputs(actioncore_host)
    assert outputs["scores"].shape == (2, 2) and np.allclose(outputs["scores"].sum(1), 1)
    metrics, images = adapter.compute_metrics(outputs, "test")
    assert metrics == {"top1": 1.0, "mean_class_accuracy": 1.0}
    first_clips_only = np.array([[-1.0, 1.0], [-2.0, 2.0]])  # what one clip per sample would score
    assert adapter.compute_metrics({**outputs, "scores": first_clips_only}, "test")[0]["top1"] == 0.5
    assert images["confusion_matrix"].dtype == np.uint8


def test_predictions_keep_every_score_and_fuse(tmp_path, actioncore_host, capsys):
    _, outputs = multi_clip_outputs(actioncore_host)
    classes = tmp_path / "classes.txt"
    classes.write_text("wave\nclap\n")
    task = SkeletonTask(classes=str(classes))

    class Experiment:  # only what write_predictions reads
        model = None
    for name, scores in (("joint", outputs["scores"]), ("bone", outputs["scores"][:, ::-1] * 0.1)):
        task.write_predictions(Experiment, "test", {**outputs, "scores": scores}, tmp_path / f"{name}.json")
    joint = json.loads((tmp_path / "joint.json").read_text())
    assert joint["classes"] == ["wave", "clap"] and len(joint["samples"][0]["scores"]) == 2
    assert joint["samples"][0]["predictions"][0]["name"] == "wave"
    joint_bone = [str(tmp_path / "joint.json"), str(tmp_path / "bone.json")]
    for weights, top1 in (("1", 1.0), ("20", 0.0)):  # actioncore fuse: the kernel's late fusion
        assert main(["fuse", *joint_bone, "--weights", "1", weights, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["metrics"]["top1"] == top1


def test_record_references(tmp_path, actioncore_host):
    from actioncore_pose import PoseRecord, write_store

    kp = np.zeros((1, 3, 17, 2), np.float32)
    write_store(tmp_path / "s", [PoseRecord(n, 0, (10, 10), kp, kp[..., 0] + 1) for n in ("x", "y")])
    index = str(tmp_path / "s" / "index.json")
    assert record_references([f"{index}#y"]) == [f"{index}#y"]
    assert record_references([str(tmp_path / "s")]) == [f"{index}#x", f"{index}#y"]
    with pytest.raises(DataError, match="not a pose record"):
        record_references(["clip.mp4"])
