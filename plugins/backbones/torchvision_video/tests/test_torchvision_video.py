"""torchvision's video models as backbones: torchvision's parameter count and state-dict layout,
their zoo entries from torchvision's weights enums, the tiny examples, and torchvision's
checkpoints converted (``from_torchvision``) into our recognizer."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import torch
import torchvision
from torchvision.models import get_model_weights

import actioncore
from actioncore import load_config
from actioncore.sdk import CheckpointError
from actioncore.sdk.weights import class_names, convert_source
from actioncore.testing import assert_component_contract, count_parameters
from actioncore_torchvision_video import ARCHITECTURES, FEATURES, TorchvisionVideo
from actioncore_torchvision_video.zoo import entries

pytestmark = pytest.mark.actioncore_plugins(
    "actioncore_torchvision_video.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
    "actioncore_lists.hooks")

PACKAGE = "actioncore_torchvision_video"
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / PACKAGE / "examples").glob("*_tiny_embedded.toml"))
ENTRIES = entries(PACKAGE)
_CLASSIFIER = {"fc": "r3d_18 mc3_18 r2plus1d_18", "classifier.1": "s3d", "head.1": "mvit_v1_b mvit_v2_s",
               "head": "swin3d_t swin3d_s swin3d_b"}


def _classifier_of(arch: str) -> str:
    return next(prefix for prefix, archs in _CLASSIFIER.items() if arch in archs.split())


def _full_size(arch: str):
    """The model of ``arch``'s first zoo entry: its family's full-size example with the entry's
    overrides (none for the architecture the example builds)."""
    entry = ENTRIES[f"tv_{arch}_kinetics400_v1"]
    path = resources.files(PACKAGE).joinpath(entry.experiment)
    with torch.device("meta"):
        return actioncore.build_model(load_config(str(path), entry.overrides))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_full_size_model_has_torchvisions_parameters_and_keys(arch, actioncore_host):
    model = _full_size(arch)
    weights = next(iter(get_model_weights(arch)))
    assert count_parameters(model) == weights.meta["num_params"]
    with torch.device("meta"):
        reference = torchvision.models.get_model(arch, weights=None).state_dict()
    ours = model.state_dict()
    classifier = _classifier_of(arch)
    expected = {f"backbone.net.{k}" for k in reference if not k.startswith(classifier + ".")}
    expected |= {"head.fc_cls.weight", "head.fc_cls.bias"}
    assert set(ours) == expected
    for key in ("weight", "bias"):  # torchvision's last layer is our head's fc_cls (S3D's 1x1x1 conv, flattened)
        assert ours[f"head.fc_cls.{key}"].numel() == reference[f"{classifier}.{key}"].numel()


@pytest.mark.parametrize("arch", ["r3d_18", "s3d", "swin3d_t"])
def test_backbone_output_feeds_the_head(arch):
    backbone = TorchvisionVideo(arch=arch).eval()
    with torch.no_grad():
        out = backbone(torch.randn(2, 3, 8, 64, 64))
    assert out.shape[:2] == (2, FEATURES[arch])
    assert out.dim() == (5 if arch == "s3d" else 2)


def test_outputs_are_torchvisions_features():
    torch.manual_seed(0)
    reference = torchvision.models.get_model("r3d_18", weights=None).eval()
    backbone = TorchvisionVideo(arch="r3d_18").eval()
    backbone.net.load_state_dict({k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")})
    x = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(reference.fc(backbone(x)), reference(x))


def test_registered_and_typed(actioncore_host):
    built = assert_component_contract(actioncore_host, "backbone", "tv_mc3_18", {})
    assert isinstance(built, TorchvisionVideo) and built.arch == "mc3_18"


def test_unknown_arch_is_refused():
    with pytest.raises(ValueError, match="unknown arch 'r3d_34'"):
        TorchvisionVideo(arch="r3d_34")


def test_zoo_entries_are_torchvisions_weights():
    assert sorted(ENTRIES) == sorted(f"tv_{a}_{w.name.lower()}" for a in ARCHITECTURES for w in get_model_weights(a))
    r3d = ENTRIES["tv_r3d_18_kinetics400_v1"]
    assert r3d.url == "https://download.pytorch.org/models/r3d_18-b3b3357e.pth" and r3d.hash_prefix == "b3b3357e"
    assert r3d.metrics == {"top1": 0.632, "top5": 0.83479} and r3d.num_params == 33_371_472
    assert r3d.preprocessing.input_size == 112 and r3d.preprocessing.mean[0] == pytest.approx(0.43216 * 255)
    assert r3d.classes == "kinetics400" and r3d.num_classes == len(class_names("kinetics400"))
    assert ENTRIES["tv_swin3d_b_kinetics400_imagenet22k_v1"].metrics["top1"] == pytest.approx(0.81643)
    for entry in ENTRIES.values():
        assert entry.source_format == "torchvision" and entry.url.endswith(f"-{entry.hash_prefix}.pth")
        assert resources.files(PACKAGE).joinpath(entry.experiment).is_file()
        assert entry.experiment.endswith("_kinetics400.toml")  # full-size examples, not the tiny ones
    assert r3d.experiment == "examples/tv_video_resnet_kinetics400.toml"
    assert r3d.overrides == ('model.backbone.type="tv_r3d_18"',)
    assert ENTRIES["tv_r2plus1d_18_kinetics400_v1"].overrides == ()
    assert ENTRIES["tv_swin3d_b_kinetics400_v1"].overrides == ('model.backbone.type="tv_swin3d_b"',
                                                               "model.head.in_channels=1024")


def test_full_size_examples_test_as_torchvision_measured(actioncore_host):
    """Each family's Kinetics-400 example tests with torchvision's evaluation protocol: the crop,
    frames per clip and clips per video its weights docs give."""
    expected = {"video_resnet": (112, 16, 5), "s3d": (224, 128, 1), "mvit": (224, 16, 5), "swin3d": (224, 32, 12)}
    for family, (crop, clip_len, clips) in expected.items():
        path = resources.files(PACKAGE).joinpath(f"examples/tv_{family}_kinetics400.toml")
        pipeline = {step.type: step.params for step in load_config(str(path)).data.test.params["pipeline"]}
        assert (pipeline["sample_frames"]["clip_len"], pipeline["sample_frames"]["num_clips"]) == (clip_len, clips)
        assert pipeline["center_crop"]["crop_size"] == crop, family


FAMILY_ARCH = {"tv_mvit_tiny_embedded": "mvit_v2_s", "tv_s3d_tiny_embedded": "s3d",
               "tv_swin3d_tiny_embedded": "swin3d_t", "tv_video_resnet_tiny_embedded": "r2plus1d_18"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_tiny_examples_are_torchvisions_network_with_12_classes(path, actioncore_host):
    arch = FAMILY_ARCH[path.stem]
    with torch.device("meta"):
        model = actioncore.build_model(load_config(path))
    assert model.backbone.arch == arch
    channels = FEATURES[arch]
    full = next(iter(get_model_weights(arch))).meta["num_params"]
    assert count_parameters(model) == full - (channels + 1) * 400 + (channels + 1) * 12


def _tiny_r3d(actioncore_host):
    """The tiny example as r3d_18 with 12 classes, giving logits (``average_clips = "score"``)."""
    path = resources.files(PACKAGE).joinpath("examples/tv_video_resnet_tiny_embedded.toml")
    return actioncore.build_model(load_config(str(path), ['model.backbone.type="tv_r3d_18"',
                                                          'model.average_clips="score"'])).eval()


def test_a_torchvision_checkpoint_converts_to_the_same_logits(actioncore_host):
    """torchvision's r3d_18 (its own builder, random weights) through convert_source('torchvision')
    loads strictly into our recognizer, which then gives torchvision's logits."""
    torch.manual_seed(0)
    reference = torchvision.models.get_model("r3d_18", weights=None, num_classes=12).eval()
    with torch.no_grad():  # BatchNorm statistics other than 0/1, so that a swapped tensor shows
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm3d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    ours = _tiny_r3d(actioncore_host)
    converted = convert_source(ours, reference.state_dict(), source_format="torchvision")
    ours.load_state_dict(converted, strict=True)
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


def test_s3d_classifier_is_flattened_into_the_head():
    with torch.device("meta"):
        state = torchvision.models.get_model("s3d", weights=None).state_dict()
        parts = TorchvisionVideo(arch="s3d").from_torchvision(state)
    assert parts["head"]["fc_cls.weight"].shape == (400, 1024) and parts["head"]["fc_cls.bias"].shape == (400,)
    assert set(parts["backbone"]) == {f"net.{k}" for k in state if not k.startswith("classifier.")}


def test_a_checkpoint_of_another_architecture_is_refused():
    with torch.device("meta"):
        s3d = torchvision.models.get_model("s3d", weights=None).state_dict()
        swin = torchvision.models.get_model("swin3d_t", weights=None).state_dict()
        backbone = TorchvisionVideo(arch="swin3d_t")
    with pytest.raises(CheckpointError, match="not a torchvision swin3d_t state dict: its classifier 'head.weight'"):
        backbone.from_torchvision(s3d)
    with pytest.raises(CheckpointError, match=r"keys of no swin3d_t layer, e.g. \['extra'\]"):
        backbone.from_torchvision({**swin, "extra": torch.zeros(1)})


def test_explain_finds_the_last_feature_map_of_a_pooling_backbone(actioncore_host, tmp_path, capsys):
    # the ResNets' backbone returns pooled [N, C]: Grad-CAM takes the last stage's map instead
    from actioncore.cli import main
    from actioncore.sdk.data import synthesize

    synthesize("recognition", tmp_path / "synth", seed=0, size="tiny")
    path = str(resources.files(PACKAGE).joinpath("examples/tv_video_resnet_tiny_embedded.toml"))
    torch.manual_seed(0)
    checkpoint = tmp_path / "weights.pth"
    torch.save(actioncore.build_model(load_config(path)).state_dict(), checkpoint)
    sets = ["--set", f'task.classes="{tmp_path / "synth/classes.txt"}"']
    video = tmp_path / "synth/videos/disc/test_0000.mp4"
    assert main(["explain", path, "--checkpoint", str(checkpoint), str(video), "--out", str(tmp_path / "cam.gif"),
                 "--json", *sets]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["layer"] == "backbone.net.layer4" and report["frames"] == 8
