"""What every hand-run comparison with MMAction2 1.2.0 needs: its models, ours, random weights.

Imported by the scripts in ``benchmarks/`` and ``benchmarks/parity/`` only, which run with the
peers on the path (``PYTHONPATH=/tmp/peers``, made by ``../shared/peers/setup.sh``); the package
and the tests never import MMAction2.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]


def mmaction2_config(relative: str) -> Any:
    """The ``model`` section of an MMAction2 config (path under its ``configs/``), runnable here.

    Pretrained weights are switched off (no downloads; the weights are random anyway) and
    SyncBN becomes BN3d with the same eps, so that the model runs in one CPU process.
    """
    import mmaction
    from mmengine import Config

    path = Path(mmaction.__file__).parent / ".mim" / "configs" / relative
    model = Config.fromfile(str(path)).model
    backbone = model.get("backbone")
    if backbone is not None:
        if "pretrained" in backbone:
            backbone.pretrained = None
        if "pretrained2d" in backbone or backbone.type in ("ResNetTSM", "ResNetTIN"):
            backbone.pretrained2d = False
        if (backbone.get("norm_cfg") or {}).get("type") == "SyncBN":
            backbone.norm_cfg.type = "BN3d"
    return model


def build_mmaction2(relative: str, edit: Callable[[Any], None] | None = None, *,
                    initialise: bool = True) -> nn.Module:
    """MMAction2's model for a config, initialised as MMAction2 initialises it (``initialise=False``
    leaves constructor values, e.g. for counting parameters on the meta device)."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.logging import MMLogger

    register_all_modules()
    # init_weights logs every tensor, through a handler made before any stdout redirection
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    config = mmaction2_config(relative)
    if edit is not None:
        edit(config)
    with contextlib.redirect_stdout(io.StringIO()):  # mmengine logs every initialised tensor
        model = MODELS.build(config)
        if initialise:
            model.init_weights()
    return model


def example_path(example: str | Path) -> Path:
    """An example experiment: absolute, under ``examples/``, or by its file name among the examples
    that the plugins ship (``plugins/*/*/actioncore_*/examples/``; a leading ``family/`` is ignored)."""
    path = Path(example)
    if path.is_absolute() or (REPO / "examples" / path).is_file():
        return path if path.is_absolute() else REPO / "examples" / path
    found = sorted(REPO.glob(f"plugins/*/*/actioncore_*/examples/{path.name}"))
    if not found:
        raise FileNotFoundError(f"no example named {path.name} under examples/ or plugins/*/*/actioncore_*/examples/")
    return found[0]


def build_ours(example: str | Path, overrides: Sequence[str] = ()) -> nn.Module:
    """Our model for an example experiment (see :func:`example_path`)."""
    import actioncore

    return actioncore.build_model(actioncore.load_config(example_path(example), list(overrides)).model)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@torch.no_grad()
def randomise(model: nn.Module, seed: int) -> None:
    """Fan-in scaled convolutions and linears, BatchNorms with non-trivial statistics.

    Zero-initialised residual BatchNorms and classifier weights would hide conversion mistakes;
    these values keep activations at a sane scale through deep networks.
    """
    g = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.copy_(torch.randn(module.weight.shape, generator=g) * math.sqrt(1.0 / fan_in))
            if module.bias is not None:
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=g))
        elif isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
            module.weight.copy_(0.5 + 0.5 * torch.rand(module.weight.shape, generator=g))
            module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=g))
            if module.running_mean is not None:
                module.running_mean.copy_(0.1 * torch.randn(module.running_mean.shape, generator=g))
                module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g))


def convert_into(ours: nn.Module, theirs: nn.Module) -> int:
    """Save MMAction2's weights as its checkpoints hold them, convert and load them strictly
    into ``ours`` through the code path of ``actioncore convert mmaction2``; returns the number
    of tensors converted."""
    from actioncore.weights.files import load_into, mmaction2_weights
    from actioncore.weights.mmaction2 import convert_state

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mmaction2.pth"
        torch.save({"state_dict": theirs.state_dict(), "meta": {}}, path)
        converted = convert_state(ours, mmaction2_weights(path))
    load_into(ours, converted, path)  # strict: every key and shape
    return len(converted)


def report(names: Iterable[str], check: Callable[[str], dict], passed: Callable[[dict], bool]) -> int:
    """Run ``check`` for each name, print each result as it comes (stderr) and then a JSON
    summary (stdout); the exit status is 0 when ``passed`` holds for every result."""
    summary: dict[str, dict] = {}
    ok = True
    for name in names:
        result = check(name)
        ok &= passed(result)
        summary[name] = result
        print(name, json.dumps(result), file=sys.stderr, flush=True)
    print(json.dumps({"ok": ok, **summary}, indent=2))
    return 0 if ok else 1


def parity_arguments(description: str, names: Iterable[str]) -> argparse.ArgumentParser:
    """The options every parity script takes: ``--atol``, ``--seed`` and ``--only NAME``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(names))
    return parser


def run_parity(names: Iterable[str], args: argparse.Namespace, check: Callable[[str], dict],
               passed: Callable[[dict], bool] | None = None) -> int:
    """Seed, then :func:`report` on ``--only`` or every name; by default a result passes when
    the parameter counts are equal and the logits differ by less than ``--atol``."""
    torch.manual_seed(args.seed)
    if passed is None:
        def passed(r: dict) -> bool:
            return (r["mmaction2_parameters"] == r["actioncore_parameters"]
                    and r["logits_max_abs_diff"] < args.atol)
    return report([args.only] if args.only else names, check, passed)


@torch.no_grad()
def randomise_transformer(model: nn.Module, seed: int) -> None:
    """:func:`randomise` for the linears and convolutions, then every other parameter (LayerNorms,
    relative-position tables, tokens) away from its initial value: LayerNorm weights around 1,
    everything else normal with std 0.5 (biases 0.1), so that no part is an identity or zero."""
    randomise(model, seed)
    g = torch.Generator().manual_seed(seed + 1)
    done = {id(m.weight) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))}
    done |= {id(m.bias) for m in model.modules()
             if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)) and m.bias is not None}
    for name, p in model.named_parameters():
        if id(p) in done:
            continue
        noise = torch.randn(p.shape, generator=g)
        if name.endswith("weight"):
            p.copy_(1 + 0.1 * noise)
        else:
            p.copy_((0.1 if name.endswith("bias") else 0.5) * noise)


def compare_recognizers(theirs: nn.Module, ours: nn.Module, clips: torch.Tensor) -> dict:
    """Class scores of MMAction2's recognizer and ours on ``clips`` ``[N, C, T, H, W]`` in eval
    mode (the backbone output goes through each side's own head)."""
    theirs.eval()
    ours.eval()
    with torch.no_grad():
        their_scores = theirs.cls_head(theirs.backbone(clips))
        our_scores = ours.head(ours.features(clips))
    return {"logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
            "logit_scale": their_scores.abs().max().item()}


def randomise_parameters(model: nn.Module, seed: int) -> None:
    """Every parameter random, for transformers whose zero / one initial values (attention biases,
    zero-initialised projections, LayerNorms) would hide conversion mistakes: 1-d scales named
    ``*weight`` near 1, matrices fan-in scaled, other vectors small; BatchNorm statistics too."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        noise = torch.randn(p.shape, generator=g)
        if p.dim() == 1 and name.endswith("weight"):
            p.copy_(1 + 0.1 * noise)
        elif p.dim() > 1:
            p.copy_(noise / p[0].numel() ** 0.5)
        else:
            p.copy_(0.1 * noise)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
            module.running_mean.copy_(0.1 * torch.randn(module.running_mean.shape, generator=g))
            module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g))
