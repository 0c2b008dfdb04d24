"""Check TSN R50 against MMAction2 1.2.0: parameter count, checkpoint conversion, outputs.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency). With the peers
installed by ``shared/peers/setup.sh``:

    PYTHONPATH=/tmp/peers python benchmarks/parity/tsn.py

It builds MMAction2's recognizer from its own config file
(``tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py``, without the ImageNet
download), randomises its weights (fan-in scaled) and BatchNorm statistics so that eval mode is
not an identity, saves the
state dict, converts it with :func:`convert_mmaction2`, loads it strictly into our backbone and
head, and compares backbone features and class scores on one random batch in eval mode. It
also compares which BatchNorms train and which parameters get gradients after ``train()`` for
``frozen_stages``, ``norm_eval`` and ``partial_bn``, and the state dicts of both ResNet-50s
after loading one torchvision-layout ImageNet file through ``pretrained``.
Prints a JSON summary; exits 1 if a count, a train mode or a loaded tensor differs, or outputs
differ by more than ``--atol``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from actioncore.sdk.weights import load_pretrained_files
from actioncore_cls_heads import TSNHead
from actioncore_tsn import ResNet, convert_mmaction2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import build_mmaction2 as peer_build_mmaction2, count, randomise  # noqa: E402

CONFIG = "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py"


class Recognizer(nn.Module):
    """The two modules our recognizer will hold, under the names it will give them."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = ResNet(depth=50, norm_eval=False)
        self.head = TSNHead(num_classes=400, in_channels=2048, spatial_type="avg",
                            consensus="avg", dropout_ratio=0.4, init_std=0.01)


def build_mmaction2() -> nn.Module:
    return peer_build_mmaction2(CONFIG)


@torch.no_grad()
def randomise_batchnorm(model: nn.Module) -> None:
    """Give every BatchNorm non-trivial statistics and affine parameters."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.1, 0.1)


def train_mode_differences() -> list[str]:
    """Where our ResNet's train() differs from MMAction2's: BN modes and requires_grad, by name."""
    from mmaction.models import ResNet as TheirResNet

    differences = []
    for params in ({"frozen_stages": 2}, {"norm_eval": True}, {"partial_bn": True},
                   {"frozen_stages": 0, "partial_bn": True}):
        for depth in (18, 50):
            theirs, ours = TheirResNet(depth=depth, **params), ResNet(depth=depth, **params)
            theirs.train()
            ours.train()
            their_modes = {n: m.training for n, m in theirs.named_modules()
                           if isinstance(m, nn.BatchNorm2d)}
            our_modes = {n: m.training for n, m in ours.named_modules()
                         if isinstance(m, nn.BatchNorm2d)}
            their_grads = {n: p.requires_grad for n, p in theirs.named_parameters()}
            our_grads = {n: p.requires_grad for n, p in ours.named_parameters()}
            if their_modes != our_modes or their_grads != our_grads:
                differences.append(f"depth {depth} {params}")
    return differences


def torchvision_load_differences(tmp: Path) -> list[str]:
    """Tensors that differ after both ResNet-50s load the same torchvision ImageNet-layout file."""
    import torchvision
    from mmaction.models import ResNet as TheirResNet

    path = tmp / "resnet50_torchvision.pth"
    reference = torchvision.models.resnet50(weights=None)
    randomise_batchnorm(reference)
    torch.save(reference.state_dict(), path)
    theirs = TheirResNet(depth=50, pretrained=str(path))
    theirs.init_weights()
    ours = load_pretrained_files(ResNet(depth=50, pretrained=str(path)))  # what build_model does after construction
    their_state, our_state = theirs.state_dict(), ours.state_dict()
    if set(their_state) != set(our_state):
        return sorted(set(their_state) ^ set(our_state))
    return [k for k in our_state if not torch.equal(our_state[k], their_state[k])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--segments", type=int, default=3)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--atol", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        theirs = build_mmaction2()
        mode_differences = train_mode_differences()
        load_differences = torchvision_load_differences(Path(tmp))
    # fan-in scaled weights keep logits at a realistic scale (MMAction2's init with random BatchNorm
    # statistics gave logits of 500, where float rounding alone differs by 2e-4)
    randomise(theirs, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tsn_r50_mmaction2.pth"
        torch.save({"state_dict": theirs.state_dict(), "meta": {"source": "mmaction2 1.2.0"}}, path)
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    converted = convert_mmaction2(checkpoint)
    ours = Recognizer()
    ours.load_state_dict(converted, strict=True)
    theirs.eval()
    ours.eval()

    inputs = torch.randn(args.videos, args.segments, 3, args.size, args.size)
    with torch.no_grad():
        their_features = theirs(inputs, mode="tensor", stage="backbone")
        their_scores = theirs(inputs, mode="tensor", stage="head")
        our_features = ours.backbone(inputs.flatten(0, 1))
        our_scores = ours.head(our_features, num_segs=args.segments)

    report = {
        "mmaction2_parameters": {"backbone": count(theirs.backbone),
                                 "cls_head": count(theirs.cls_head), "total": count(theirs)},
        "actioncore_parameters": {"backbone": count(ours.backbone), "head": count(ours.head),
                                  "total": count(ours)},
        "state_dict_keys": {"mmaction2": len(checkpoint["state_dict"]), "converted": len(converted)},
        "input_shape": list(inputs.shape),
        "features_shape": list(our_features.shape),
        "scores_shape": list(our_scores.shape),
        "features_max_abs_diff": (our_features - their_features).abs().max().item(),
        "scores_max_abs_diff": (our_scores - their_scores).abs().max().item(),
        "scores_max_abs": their_scores.abs().max().item(),
        "train_mode_differences": mode_differences,
        "torchvision_load_differences": load_differences,
        "torch": torch.__version__,
    }
    print(json.dumps(report, indent=2))
    ok = (report["mmaction2_parameters"]["total"] == report["actioncore_parameters"]["total"]
          and not mode_differences and not load_differences
          and report["features_max_abs_diff"] <= args.atol
          and report["scores_max_abs_diff"] <= args.atol)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
