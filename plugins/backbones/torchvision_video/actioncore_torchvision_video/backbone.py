"""torchvision's video classifiers as backbones: torchvision's own architecture code, no classifier.

The network is built by ``torchvision.models.get_model(arch, weights=None)`` (nothing is
downloaded here; pretrained weights come through the weights service by name) and its classifier
is taken off, so that a head of actioncore-cls-heads classifies: the ``i3d`` head, whose
``fc_cls`` has exactly the shape of torchvision's last layer, so backbone + head have
torchvision's parameter count.

What the backbone returns:

- ``r3d_18``, ``mc3_18``, ``r2plus1d_18``, ``mvit_v1_b``, ``mvit_v2_s``, ``swin3d_t/s/b``: the
  pooled features ``[N, C]`` that torchvision's last linear layer reads (ResNets: the global
  average of the last stage; MViT: the normed class token; Swin3D: the normed global average).
  Use the ``i3d`` head with ``spatial_type = "none"``.
- ``s3d``: the feature map ``[N, 1024, t, h, w]`` of ``features``; use the ``i3d`` head with
  ``spatial_type = "avg"``. torchvision averages 2x7x7 windows (stride 1) before its 1x1x1
  convolution and then the outputs; the classifier being linear, that is the global average
  exactly when the map is 2x7x7 (16 frames at 224 px), and a window-weighted average otherwise.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import torch
import torchvision
from actioncore.sdk import CheckpointError
from torch import nn

Architecture = Literal["r3d_18", "mc3_18", "r2plus1d_18", "s3d", "mvit_v1_b", "mvit_v2_s",
                       "swin3d_t", "swin3d_s", "swin3d_b"]
ARCHITECTURES: tuple[str, ...] = Architecture.__args__
FEATURES: dict[str, int] = {"r3d_18": 512, "mc3_18": 512, "r2plus1d_18": 512, "s3d": 1024, "mvit_v1_b": 768,
                            "mvit_v2_s": 768, "swin3d_t": 768, "swin3d_s": 768, "swin3d_b": 1024}
"""Channels of each backbone's output: the ``in_channels`` of its head."""
_CLASSIFIER = {"r3d_18": "fc", "mc3_18": "fc", "r2plus1d_18": "fc", "s3d": "classifier", "mvit_v1_b": "head",
               "mvit_v2_s": "head", "swin3d_t": "head", "swin3d_s": "head", "swin3d_b": "head"}
_LAST_LAYER = {"r3d_18": "fc", "mc3_18": "fc", "r2plus1d_18": "fc", "s3d": "classifier.1", "mvit_v1_b": "head.1",
               "mvit_v2_s": "head.1", "swin3d_t": "head", "swin3d_s": "head", "swin3d_b": "head"}
"""The layer of torchvision's classifier that holds its parameters (after a Dropout where there is one)."""


class TorchvisionVideo(nn.Module):
    """A torchvision video model without its classifier (see the module docstring).

    MViT's builders fix its input to 16 frames of 224 x 224 (the position embedding of v1 and the
    relative position tables of v2 are sized for it), so a ``tv_mvit_*`` backbone takes only that.

    :param arch: the torchvision model name.
    """

    def __init__(self, *, arch: Architecture):
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"torchvision video backbone: unknown arch '{arch}'; one of {', '.join(ARCHITECTURES)}")
        self.arch = arch
        self.net = torchvision.models.get_model(arch, weights=None)
        if arch == "s3d":
            del self.net.avgpool, self.net.classifier
        else:
            setattr(self.net, _CLASSIFIER[arch], nn.Identity())
        self.out_channels = FEATURES[arch]

    def from_torchvision(self, state: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
        """A state dict of torchvision's whole ``arch`` model (as its weights enums' files hold it)
        split into this backbone's and its classifier head's: ``{"backbone": {"net.<key>": ...},
        "head": {"fc_cls.weight": ..., "fc_cls.bias": ...}}`` (the ``i3d`` head's ``fc_cls`` is
        torchvision's last layer; S3D's 1x1x1 convolution is flattened to a linear weight).
        The kernel's ``convert_source(..., source_format="torchvision")`` calls this. Tensors are
        shared, not copied.

        :raises CheckpointError: when the classifier is missing or a key is not one of this
            architecture's (another torchvision model's file, a truncated file).
        """
        classifier, last = _CLASSIFIER[self.arch] + ".", _LAST_LAYER[self.arch] + "."
        head = {f"fc_cls.{k[len(last):]}": v for k, v in state.items() if k.startswith(last)}
        if set(head) != {"fc_cls.weight", "fc_cls.bias"}:
            raise CheckpointError(f"not a torchvision {self.arch} state dict: its classifier '{last}weight' and "
                                  f"'{last}bias' are missing")
        if head["fc_cls.weight"].dim() == 5:  # S3D's Conv3d(1024, classes, 1x1x1)
            head["fc_cls.weight"] = head["fc_cls.weight"].flatten(1)
        backbone = {f"net.{k}": v for k, v in state.items() if not k.startswith(classifier)}
        unknown = sorted(set(backbone) - set(self.state_dict()))
        if unknown:
            raise CheckpointError(f"not a torchvision {self.arch} state dict: {len(unknown)} keys of no "
                                  f"{self.arch} layer, e.g. {[k[4:] for k in unknown[:5]]}")
        return {"backbone": backbone, "head": head}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.arch == "s3d":
            return self.net.features(x)
        return self.net(x)


def factory(arch: str):
    """The registered factory ``tv_<arch>``: :class:`TorchvisionVideo` with ``arch`` fixed."""
    def build() -> TorchvisionVideo:
        return TorchvisionVideo(arch=arch)

    build.__name__ = build.__qualname__ = f"tv_{arch}"
    build.__doc__ = f"torchvision's ``{arch}`` without its classifier ({FEATURES[arch]} output channels)."
    return build
