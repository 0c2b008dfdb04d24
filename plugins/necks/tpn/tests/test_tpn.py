"""TPN: MMAction2's parameter counts, tiny TSM and SlowOnly variants that train, the auxiliary loss
in the recognition task's training losses with its weight, bad levels."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import actioncore
from actioncore.testing import fixed_batch_losses
from actioncore_recognition import RecognitionTask

pytestmark = pytest.mark.actioncore_plugins("actioncore_tpn.hooks", "actioncore_tsm.hooks", "actioncore_tsn.hooks",
                                            "actioncore_resnet3d.hooks", "actioncore_cls_heads.hooks",
                                            "actioncore_recognition.hooks", "actioncore_lists.hooks")

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_tpn" / "examples"
CONFIGS = {"tsm": "tpn_tsm_r50_1x1x8_150e_sthv1_rgb.toml", "slowonly": "tpn_slowonly_r50_8x8x1_150e_kinetics400_rgb.toml"}
# MMAction2 1.2.0's builder on these configs (tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb,
# tpn-slowonly_imagenet-pretrained-r50_8xb8-8x8x1-150e_kinetics400-rgb): total, and the neck's share
# (of which its auxiliary head: 19,234,990 and 19,698,064).
PARAMETERS = {"tsm": (82_445_724, 58_581_166), "slowonly": (91_498_336, 59_044_240)}

FRAMES = 4
TINY_NECK = [f"model.neck.temporal_modulation_cfg={{downsample_scales = [{FRAMES}, {FRAMES}]}}",
             "model.neck.level_fusion_cfg={in_channels = [32, 32], mid_channels = [32, 32], out_channels = 32, "
             "downsample_scales = [[1, 1, 1], [1, 1, 1]]}",
             "model.neck.out_channels=32", "model.neck.aux_head_cfg={out_channels = 5, loss_weight = 0.25}",
             "model.head.num_classes=5", "model.head.dropout_ratio=0.0"]
TINY = {  # ResNet-18-wide levels (256, 512) for TSM, a 3D ResNet-18 of base width 8 (32, 64) for SlowOnly
    "tsm": ["model.backbone.depth=18", f"model.backbone.num_segments={FRAMES}", "model.neck.in_channels=[256, 512]",
            "model.neck.spatial_modulation_cfg={in_channels = [256, 512], out_channels = 512}"],
    "slowonly": ["model.backbone.depth=18", "model.backbone.base_channels=8", "model.neck.in_channels=[32, 64]",
                 "model.neck.spatial_modulation_cfg={in_channels = [32, 64], out_channels = 64}"],
}


def tiny_experiment(name: str):
    return actioncore.load_config(EXAMPLES / CONFIGS[name], TINY[name] + TINY_NECK)


def clips(name: str, batch: int = 2, views: int = 1) -> torch.Tensor:
    if name == "tsm":
        return torch.randn(batch, views * FRAMES, 3, 32, 32)
    return torch.randn(batch, views, 3, FRAMES, 32, 32)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, name):
    with torch.device("meta"):
        model = actioncore.build_model(actioncore.load_config(EXAMPLES / CONFIGS[name]).model)
    total, neck = PARAMETERS[name]
    assert sum(p.numel() for p in model.parameters()) == total
    assert sum(p.numel() for p in model.neck.parameters()) == neck


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_tiny_tpn_trains_and_averages_views(actioncore_host, name):
    torch.manual_seed(0)
    model = actioncore.build_model(tiny_experiment(name).model)
    x, labels = clips(name), torch.tensor([1, 3])
    losses = fixed_batch_losses(model, x, labels)
    assert losses[-1] < losses[0], losses
    assert model.neck.aux_scores is not None and model.neck.aux_scores.shape == (2, 5)  # training forward
    model.eval()
    with torch.no_grad():
        assert model(clips(name, views=3)).shape == (2, 5)  # 3 clips per sample: one row, averaged
    assert model.neck.aux_scores is None  # the auxiliary head runs in training only


def test_auxiliary_loss_is_in_the_training_losses_with_its_weight(actioncore_host):
    torch.manual_seed(0)
    experiment = tiny_experiment("tsm")
    adapter = RecognitionTask().adapter(experiment)
    model = adapter.build_model(experiment).train()
    model.neck.aux_head.dropout.p = 0.0  # deterministic auxiliary scores, to recompute them below
    x, labels = clips("tsm"), torch.tensor([1, 3])
    out = adapter.train_step(model, {"inputs": x, "labels": labels, "iteration": 0}, torch.device("cpu"))
    assert set(out) >= {"loss", "loss_cls", "loss_aux"}
    torch.testing.assert_close(out["loss"], out["loss_cls"] + out["loss_aux"])
    with torch.no_grad():
        levels = [lvl.reshape(2, FRAMES, *lvl.shape[1:]).transpose(1, 2) for lvl in model.backbone(x.flatten(0, 1))]
        expected = 0.25 * F.cross_entropy(model.neck.aux_head(levels[-2]), labels)
    torch.testing.assert_close(out["loss_aux"].detach(), expected)
    assert model.neck.auxiliary_losses(labels) == {}  # the scores are used once
    out["loss"].backward()  # the auxiliary head learns from the summed loss
    assert model.neck.aux_head.fc.weight.grad is not None and model.neck.aux_head.fc.weight.grad.abs().sum() > 0


def test_wrong_number_of_levels_names_out_indices(actioncore_host):
    experiment = actioncore.load_config(EXAMPLES / CONFIGS["tsm"], TINY["tsm"] + TINY_NECK + ["model.backbone.out_indices=[3]"])
    model = actioncore.build_model(experiment.model)
    with pytest.raises(ValueError, match="out_indices"):
        model(clips("tsm"))
