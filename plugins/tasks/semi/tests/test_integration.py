"""ActorCutMix, distillation, supervised_aug and the cross-dataset mode for real, on the tiny
embedded set (its ``person_boxes.json`` gives exact boxes of its moving shapes), plus what the
task feeds the model and its ActorCutMix composites against SEED003 §2.4's formulas."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import actioncore
from actioncore.sdk.data import ImageScoresWriter, unique_keys
from actioncore_semi import SemiRecognitionTask, mix_targets
from actioncore_semi.mixing import actor_cutmix_views

pytestmark = pytest.mark.actioncore_plugins("actioncore_semi.hooks", "actioncore_recognition.hooks",
                                            "actioncore_lists.hooks", "actioncore_toy3d.hooks",
                                            "actioncore_cls_heads.hooks", "actioncore_augment.hooks")


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "actioncore", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def train_events(work_dir: Path) -> list[dict]:
    return [e for e in map(json.loads, (work_dir / "log.jsonl").read_text().splitlines()) if e["event"] == "train"]


def finite(events: list[dict], *keys: str) -> bool:
    return all(math.isfinite(e[k]) for e in events for k in keys)


# --- SEED003 §2.4 on a hand-made batch -------------------------------------------------------------

B, T, H, W = 5, 2, 4, 4


def masks() -> torch.Tensor:
    """uint8 [B, T, H, W]: clip 0 a 2x2 box (r = 0.25), 1 all ones (invalid), 2 a box but the
    middle clip (invalid), 3 a 1x4 row (r = 0.25, partner 1 is invalid), 4 a 4x2 half (r = 0.5)."""
    m = torch.zeros(B, T, H, W, dtype=torch.uint8)
    m[0, :, :2, :2] = 1
    m[1] = 1
    m[2, :, 1:3, 1:3] = 1
    m[3, :, 0, :] = 1
    m[4, :, :, 2:] = 1
    return m


def views(mask: torch.Tensor, weak_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, dict, dict]:
    g = torch.Generator().manual_seed(0)
    weak, strong = torch.randn(B, 1, 3, T, H, W, generator=g), torch.randn(B, 1, 3, T, H, W, generator=g)
    weak_batch = {"input_format": "NCTHW", "clip_len": T, "person_mask": weak_mask}
    return weak, strong, weak_batch, {"person_mask": mask}


def test_actor_cutmix_composites_and_soft_targets_follow_seed003():
    m = masks()
    weak, strong, weak_batch, strong_batch = views(m)
    mix = actor_cutmix_views(weak=weak, strong=strong, weak_batch=weak_batch, strong_batch=strong_batch,
                             probability=1.0, seed=0, iteration=3, stream=0, mask_view="strong")
    assert mix is not None
    assert mix.partner.tolist() == [4, 3, 2, 1, 0] and mix.valid.tolist() == [True, False, False, True, True]
    M = m.float().view(B, 1, 1, T, H, W)
    M_eff = M.clone()
    M_eff[1] = M_eff[2] = 1  # invalid clips count as all ones, also as partners
    for i, j in ((0, 4), (4, 0), (3, 1)):
        expected = weak[i] * M_eff[i] + weak[j] * (1 - M_eff[j]) * (1 - M_eff[i])
        torch.testing.assert_close(mix.inputs[i], expected, rtol=0, atol=0)
    torch.testing.assert_close(mix.inputs[3], weak[3] * M[3], rtol=0, atol=0)  # partner all-ones: background 0
    for i in (1, 2):  # invalid clips keep their strong view
        assert torch.equal(mix.inputs[i], strong[i])
    r = torch.tensor([0.25, 1.0, 1.0, 0.25, 0.5])
    torch.testing.assert_close(mix.weight, 1 - (1 - r) ** 4)
    assert mix.weight[0].item() == pytest.approx(1 - 0.75 ** 4) and mix.weight[4].item() == pytest.approx(0.9375)
    labels = torch.tensor([0, 1, 2, 3, 4])
    targets = mix_targets(F.one_hot(labels, 5).float(), mix.weight, mix.partner)
    w0 = 1 - 0.75 ** 4
    torch.testing.assert_close(targets[0], torch.tensor([w0, 0, 0, 0, 1 - w0]))
    torch.testing.assert_close(targets[4], torch.tensor([0.0625, 0, 0, 0, 0.9375]))
    assert torch.equal(targets[1], F.one_hot(labels[1], 5).float()) and torch.equal(targets[2], F.one_hot(labels[2], 5).float())


def test_the_mask_comes_from_the_chosen_view_and_tails_mix_nothing():
    m = masks()
    weak, strong, weak_batch, strong_batch = views(m, weak_mask=torch.zeros_like(m))
    aligned = actor_cutmix_views(weak=weak, strong=strong, weak_batch=weak_batch, strong_batch=strong_batch,
                                 probability=1.0, seed=0, iteration=0, stream=0, mask_view="weak")
    assert not aligned.valid.any() and torch.equal(aligned.inputs, strong)  # the weak view's masks are empty
    never = actor_cutmix_views(weak=weak, strong=strong, weak_batch=weak_batch, strong_batch=strong_batch,
                               probability=0.0, seed=0, iteration=0, stream=0, mask_view="strong")
    assert never is None
    coins = [actor_cutmix_views(weak=weak, strong=strong, weak_batch=weak_batch, strong_batch=strong_batch,
                                probability=0.5, seed=0, iteration=k, stream=0, mask_view="strong") is not None
             for k in range(200)]
    assert 70 < sum(coins) < 130  # one coin per iteration at p = 0.5


# --- what the task feeds the model -------------------------------------------------------------------


class Recorder(nn.Module):
    """A linear classifier that keeps every input it is given."""

    def __init__(self, classes: int):
        super().__init__()
        self.fc = nn.Linear(3 * T * H * W, classes)
        self.seen: list[torch.Tensor] = []
        self.register_forward_hook(lambda module, args, out: self.seen.append(args[0].detach().clone()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def labeled_batch(mask: torch.Tensor) -> dict:
    g = torch.Generator().manual_seed(1)
    weak = torch.randint(0, 256, (B, 1, 3, T, H, W), generator=g, dtype=torch.uint8)
    strong = torch.randint(0, 256, (B, 1, 3, T, H, W), generator=g, dtype=torch.uint8)
    return {"inputs": weak, "labels": torch.arange(B) % 3, "input_format": "NCTHW", "clip_len": T,
            "person_mask": mask, "indices": torch.arange(B),
            "strong": {"inputs": strong, "person_mask": mask, "input_format": "NCTHW", "clip_len": T}}


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_supervised_aug_trains_only_on_strong_or_actor_cutmix_views(actioncore_host, tmp_path, semi_experiment, probability):
    exp = semi_experiment(tmp_path, with_unlabeled=False, train_strong=True, boxes=True,
                          task=f'method = "supervised_aug"\nactor_cutmix = {probability}')
    experiment = actioncore.load_config(exp)
    adapter = SemiRecognitionTask(method="supervised_aug", actor_cutmix=probability).adapter(experiment)
    model = Recorder(12)
    batch = labeled_batch(masks())
    out = adapter.train_step(model, {"labeled": batch, "unlabeled": None, "iteration": 0}, torch.device("cpu"))
    (fed,) = model.seen
    assert fed.shape[0] == B  # the weak views never go through the model
    weak, strong = batch["inputs"].float(), batch["strong"]["inputs"].float()
    if probability == 0:
        assert torch.equal(fed, strong) and out["labeled_actor_cutmix"] == 0
        expected = F.cross_entropy(model.fc(strong.flatten(1)), batch["labels"])
    else:
        valid = torch.tensor([True, False, False, True, True])
        assert torch.equal(fed[~valid], strong[~valid]) and not torch.equal(fed[valid], strong[valid])
        assert all(not torch.equal(fed[i], weak[i]) for i in range(B))  # composites, not the weak view
        assert out["labeled_actor_cutmix"] == 1 and out["labeled_actor_cutmix_clips"] == pytest.approx(0.6)
        mixed = actor_cutmix_views(weak=weak, strong=strong, weak_batch=batch, strong_batch=batch["strong"],
                                   probability=1.0, seed=experiment.runtime.seed, iteration=0, stream=1,
                                   mask_view="strong")
        assert torch.equal(fed, mixed.inputs)
        targets = mix_targets(F.one_hot(batch["labels"], 12).float(), mixed.weight, mixed.partner)
        expected = -(targets * model.fc(fed.flatten(1)).log_softmax(1)).sum(1).mean()
    assert float(out["loss"].detach()) == pytest.approx(float(expected.detach()), rel=1e-5)


# --- end to end --------------------------------------------------------------------------------------


def test_actor_cutmix_run_mixes_with_the_synthetic_person_boxes(tmp_path, semi_experiment):
    exp = semi_experiment(tmp_path, epochs=1, boxes=True, task="threshold = 0.2\nactor_cutmix = 1.0")
    cli("run", str(exp))
    events = train_events(tmp_path / "wd")
    assert len(events) == 12 and all(e["actor_cutmix"] == 1 for e in events)
    # the shapes cover part of each crop: most clips are valid (all-0 / all-1 masks are not)
    assert sum(e["actor_cutmix_clips"] for e in events) / len(events) > 0.5
    assert finite(events, "loss", "loss_labeled", "loss_unlabeled")
    assert all(e["loss"] == pytest.approx(e["loss_labeled"] + e["loss_unlabeled"], rel=1e-5) for e in events)


def test_supervised_aug_run_logs_the_labeled_branch_only(tmp_path, semi_experiment):
    exp = semi_experiment(tmp_path, epochs=1, boxes=True, with_unlabeled=False, train_strong=True,
                          task='method = "supervised_aug"\nactor_cutmix = 0.5')
    cli("run", str(exp))
    events = train_events(tmp_path / "wd")
    assert len(events) == 12  # one pass over the 48 labeled clips in batches of 4
    assert all({"loss", "loss_labeled", "top1", "labeled_actor_cutmix", "labeled_actor_cutmix_clips"} <= set(e)
               and "loss_unlabeled" not in e for e in events)
    assert finite(events, "loss") and {e["labeled_actor_cutmix"] for e in events} == {0.0, 1.0}


def test_cross_dataset_run_trains_the_labeled_branch_on_strong_views(tiny_data, tmp_path, semi_experiment, label_split):
    labeled, _ = label_split(tiny_data / "train.txt", tmp_path / "split", fraction=0.25, seed=0)
    exp = semi_experiment(tmp_path, epochs=1, boxes=True, train_strong=True, labeled=labeled,
                          task="threshold = 0.2\nlabeled_strong = true\npseudo_label_accuracy = false")
    cli("run", str(exp))
    events = train_events(tmp_path / "wd")
    keys = {"loss", "loss_labeled", "loss_unlabeled", "mask_ratio", "actor_cutmix", "labeled_actor_cutmix"}
    assert len(events) == 12 and all(keys <= set(e) and "pseudo_label_accuracy" not in e for e in events)
    assert finite(events, "loss", "loss_labeled", "loss_unlabeled")
    coins = [(e["actor_cutmix"], e["labeled_actor_cutmix"]) for e in events]
    assert len(set(coins)) > 1 and any(a != b for a, b in coins)  # two independent coins


def write_scores(root: Path, out: Path, *, classes: int = 10) -> Path:
    """Per-frame 'image-model' probabilities: one peaked distribution (entropy 0.72 nats) a head can
    learn within a few epochs from scratch, on frames 0-31 of every video, plus noise per video."""
    rng = np.random.default_rng(0)
    sources = [line.split()[0] for line in (root / "train.txt").read_text().splitlines() if line.strip()]
    with ImageScoresWriter(out, num_classes=classes) as writer:
        for source, key in zip(sources, unique_keys(sources)):  # train_0000 is in several class folders
            logits = rng.normal(0, 0.1, classes)
            logits[3] += 4.0
            probs = np.exp(logits) / np.exp(logits).sum()
            writer.add(key, np.arange(32), np.tile(probs, (32, 1)), source=source)
    return out


def test_distillation_loss_falls_and_the_checkpoint_holds_the_distill_head(tiny_data, tmp_path, semi_experiment,
                                                                          test_pipeline):
    scores = write_scores(tiny_data, tmp_path / "scores.npz")
    task = f'threshold = 0.2\ndistill_weight = 1.0\ndistill_scores = "{scores}"\ndistill_classes = 10'
    wrong = semi_experiment(tmp_path / "wrong", epochs=1, task=task.replace("distill_classes = 10", ""))
    refused = cli("run", str(wrong), check=False)
    assert refused.returncode == 2 and "task.distill_classes = 1000, but" in refused.stderr
    assert "holds 10 class probabilities per frame" in refused.stderr
    exp = semi_experiment(tmp_path, epochs=3, task=task,
                          extra=f"""
        [data.test]
        type = "video_list"
        ann_file = "{tiny_data / 'test.txt'}"
        root = "{tiny_data / 'videos'}"
        pipeline = {test_pipeline}
    """)
    cli("run", str(exp))
    events = train_events(tmp_path / "wd")
    assert len(events) == 36 and finite(events, "loss_distill")
    first, last = (np.mean([e["loss_distill"] for e in events[a:a + 12]]) for a in (0, 24))
    assert first > last + 0.3 and last < 1.2, (first, last)  # measured 1.60 -> 0.80 (floor: the targets' 0.72)
    assert all(e["loss"] == pytest.approx(e["loss_labeled"] + e["loss_unlabeled"] + e["loss_distill"], rel=1e-4)
               for e in events)
    state = torch.load(tmp_path / "wd/checkpoints/latest.pth", map_location="cpu", weights_only=True)["model"]
    assert state["distill_head.fc.weight"].shape == (10, 8) and state["distill_head.fc.bias"].shape == (10,)
    assert {k.split(".")[0] for k in state} == {"recognizer", "distill_head"}
    metrics = json.loads(cli("test", str(exp), "--checkpoint", str(tmp_path / "wd/checkpoints/latest.pth"),
                             "--json").stdout)
    assert 0 <= metrics["top1"] <= 1
