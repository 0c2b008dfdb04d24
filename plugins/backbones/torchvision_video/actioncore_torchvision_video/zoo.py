"""torchvision's video weights as zoo entries, read from its own weights enums (no network).

Each ``torchvision.models.get_model_weights(arch)`` member becomes an entry named
``tv_<arch>_<member>`` (``tv_r3d_18_kinetics400_v1``): its URL, the sha256 prefix its file name
carries (torchvision checks the same prefix), ``meta`` (categories, which are Kinetics-400's
shipped list; Kinetics-400 accuracy; parameter count; recipe) and its transforms (resize, crop,
mean/std, here on 0-255 pixel values like every other entry). The entries follow the installed
torchvision, so they are never out of date with the architecture code that builds the backbone.
"""
from __future__ import annotations

import re

from actioncore.sdk import ConfigError
from actioncore.sdk.weights import Preprocessing, WeightsEntry, class_names
from torchvision.models import get_model_weights

from .backbone import ARCHITECTURES, FEATURES

_HASH = re.compile(r"-([0-9a-f]{8,})\.pth$")
_FAMILY = {"r3d_18": "video_resnet", "mc3_18": "video_resnet", "r2plus1d_18": "video_resnet", "s3d": "s3d",
           "mvit_v1_b": "mvit", "mvit_v2_s": "mvit", "swin3d_t": "swin3d", "swin3d_s": "swin3d", "swin3d_b": "swin3d"}
_FAMILY_ARCH = {"video_resnet": "r2plus1d_18", "s3d": "s3d", "mvit": "mvit_v2_s", "swin3d": "swin3d_t"}
"""The architecture each family's full-size example builds; the others are overrides of it."""
LICENSE = "BSD-3-Clause (torchvision); the training data's own terms apply"


def example_of(arch: str) -> str:
    """The package-relative full-size Kinetics-400 example of ``arch``'s family (torchvision's
    test protocol for its weights)."""
    return f"examples/tv_{_FAMILY[arch]}_kinetics400.toml"


def arch_overrides(arch: str) -> tuple[str, ...]:
    """Overrides turning the family's example into ``arch`` (none for the example's own)."""
    base = _FAMILY_ARCH[_FAMILY[arch]]
    if arch == base:
        return ()
    overrides = (f'model.backbone.type="tv_{arch}"',)
    return overrides + ((f"model.head.in_channels={FEATURES[arch]}",) if FEATURES[arch] != FEATURES[base] else ())


def entries(package: str) -> dict[str, WeightsEntry]:
    """Every torchvision video weight of the architectures this plugin builds."""
    kinetics = class_names("kinetics400")
    found: dict[str, WeightsEntry] = {}
    for arch in ARCHITECTURES:
        for weights in get_model_weights(arch):
            meta = weights.meta
            if list(meta["categories"]) != kinetics:
                raise ConfigError(f"{package}: torchvision's {arch} {weights.name} categories are not the "
                                  "shipped kinetics400 list")
            transforms = weights.transforms()
            metrics = meta["_metrics"]["Kinetics-400"]
            name = f"tv_{arch}_{weights.name.lower()}"
            found[name] = WeightsEntry(
                name=name, architecture=arch, task="recognition", dataset="kinetics400", url=weights.url,
                hash_prefix=_HASH.search(weights.url).group(1), source_format="torchvision", package=package,
                experiment=example_of(arch), overrides=arch_overrides(arch),
                fits=(f"torchvision's {arch} with its 400-class classifier" + (" (the overrides)" if arch_overrides(arch)
                                                                              else "") +
                      "; the example's test pipeline is torchvision's evaluation protocol for these weights"),
                classes="kinetics400", num_classes=len(kinetics),
                preprocessing=Preprocessing(
                    mean=tuple(round(m * 255, 4) for m in transforms.mean),
                    std=tuple(round(s * 255, 4) for s in transforms.std),
                    input_size=transforms.crop_size[0],
                    resize=transforms.resize_size[0] if len(transforms.resize_size) == 1 else None,
                    clip_len=meta.get("min_temporal_size") if arch.startswith("mvit") else None,
                    format_shape="NCTHW"),
                metrics={"top1": round(metrics["acc@1"] / 100, 6), "top5": round(metrics["acc@5"] / 100, 6)},
                metrics_dataset="Kinetics-400", source_config=meta["recipe"], num_params=meta["num_params"],
                license=LICENSE)
    return found
