"""SSN (Zhao et al., *Temporal Action Detection with Structured Segment Networks*, ICCV 2017) as
MMAction2 0.24 builds it (``SSN`` localizer, ``ssn_r50_450e_thumos14_rgb_{train,test}``): a
TSN-style 2D ResNet on single frames, spatial average pooling, dropout 0.8, and the SSN head
over structured temporal pyramid pooling.

For the ``localization`` task: ``model(inputs)`` runs the network, ``model.loss(outputs, labels)``
the head and SSN's losses on the sampled proposals, ``model.detections(outputs, labels)`` the
test-time pooling and post-processing into labelled detections (scored with ``mAP@tIoU``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from actioncore_localization import Detection
from actioncore_tsn import ResNet

from .head import SSNHead
from .loss import ssn_loss
from .postprocess import video_detections
from .stpp import StageConfig, stpp_test
from .targets import SSNTestInfo, SSNTrainTarget, class_name

DEFAULT_BACKBONE = {"depth": 50, "norm_eval": False, "partial_bn": True}
"""0.24's THUMOS14 backbone (torchvision's ImageNet ResNet-50 as ``pretrained`` there)."""


class SSN(nn.Module):
    """Inputs: training ``[B, P, 9, 3, H, W]`` (``format_shape`` ``NPTCHW`` after
    ``sample_proposal_frames``), test ``[B, T, 3, H, W]`` (``NCHW``, one frame every
    ``test_interval``).

    :param backbone: keyword arguments of actioncore-tsn's :class:`~actioncore_tsn.ResNet`.
    :param spatial_type: ``avg`` or ``max`` pooling of the backbone's map (0.24 pools 7x7, i.e.
        the whole map of a 224-pixel frame; here the whole map at any size), None for none.
    :param dropout_ratio: dropout on the pooled frame features in training (0.8).
    :param head_dropout_ratio: dropout inside the head (0 in 0.24's configs).
    :param comp_loss_weight, reg_loss_weight: 0.24's ``train_cfg.ssn.loss_weight``.
    :param top_k, nms: 0.24's ``test_cfg.ssn.evaluater`` (2000 pairs, NMS tIoU 0.2).
    :param test_batch_size: frames per backbone call at test time (0.24's sampler batch size).
    """

    input_layout = "NPTCHW"

    def __init__(self, *, backbone: dict[str, Any] | None = None, num_classes: int = 20,
                 in_channels: int = 2048, spatial_type: Literal["avg", "max"] | None = "avg",
                 dropout_ratio: float = 0.8, head_dropout_ratio: float = 0.0,
                 stpp_stage: Sequence[StageConfig] = (1, 1, 1), num_segments: Sequence[int] = (2, 5, 2),
                 use_regression: bool = True, init_std: float = 0.001, comp_loss_weight: float = 0.1,
                 reg_loss_weight: float = 0.1, top_k: int = 2000, nms: float = 0.2, test_batch_size: int = 16):
        super().__init__()
        if spatial_type not in ("avg", "max", None):
            raise ValueError(f"spatial_type must be 'avg', 'max' or None, got {spatial_type!r}")
        self.backbone = ResNet(**(DEFAULT_BACKBONE if backbone is None else backbone))
        self.spatial_type = spatial_type
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio else None
        self.head = SSNHead(num_classes=num_classes, in_channels=in_channels, stpp_stage=stpp_stage,
                            num_segments=num_segments, use_regression=use_regression,
                            dropout_ratio=head_dropout_ratio, init_std=init_std)
        self.comp_loss_weight = comp_loss_weight
        self.reg_loss_weight = reg_loss_weight
        self.top_k = top_k
        self.nms = nms
        self.test_batch_size = test_batch_size

    def frame_features(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, C, H, W]`` frames to pooled ``[N, in_channels]`` features."""
        x = self.backbone(frames)
        if self.spatial_type == "avg":
            x = nn.functional.adaptive_avg_pool2d(x, 1)
        elif self.spatial_type == "max":
            x = nn.functional.adaptive_max_pool2d(x, 1)
        return x.flatten(1)

    def forward(self, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"features": [B * P * 9, C]}`` for training inputs (6-D), ``{"frame_scores": [B, T,
        D]}`` (every classifier on every frame) for test inputs (5-D)."""
        if inputs.dim() == 6:
            x = self.frame_features(inputs.reshape(-1, *inputs.shape[-3:]))
            return {"features": self.dropout(x) if self.dropout is not None else x}
        if inputs.dim() != 5:
            raise ValueError(f"SSN takes [B, P, T, C, H, W] (training) or [B, T, C, H, W] (test) inputs, "
                             f"got shape {list(inputs.shape)}")
        frames = inputs.reshape(-1, *inputs.shape[-3:])
        features = torch.cat([self.frame_features(chunk) for chunk in frames.split(self.test_batch_size)])
        return {"frame_scores": self.head.test_scores(features).view(inputs.shape[0], inputs.shape[1], -1)}

    def loss(self, outputs: dict[str, torch.Tensor], labels: Sequence[SSNTrainTarget]) -> dict[str, torch.Tensor]:
        if "features" not in outputs:
            raise ValueError("SSN.loss needs training inputs (sample_proposal_frames with mode train or val)")
        device = outputs["features"].device

        def stacked(name: str) -> torch.Tensor:
            return torch.from_numpy(np.concatenate([getattr(t, name) for t in labels])).to(device)

        activity, completeness, regression = self.head(outputs["features"], stacked("scale_factors"))
        types = labels[0].types
        return ssn_loss(activity, completeness, regression, stacked("types"), stacked("labels"),
                        stacked("reg_targets"), foreground=int((types == 0).sum()),
                        incomplete=int((types == 1).sum()), comp_loss_weight=self.comp_loss_weight,
                        reg_loss_weight=self.reg_loss_weight)

    @torch.no_grad()
    def detections(self, outputs: dict[str, torch.Tensor], labels: Sequence[SSNTestInfo]) -> list[list[Detection]]:
        """Per sample, its labelled detections (frames), best first: activity x completeness,
        top-k pairs, regression, per-class temporal NMS (0.24's evaluation)."""
        if "frame_scores" not in outputs:
            raise ValueError("SSN.detections needs test inputs (sample_proposal_frames with mode test)")
        out = []
        for scores, info in zip(outputs["frame_scores"].float().cpu(), labels):
            activity, completeness, regression = stpp_test(
                scores, torch.from_numpy(info.proposal_ticks), torch.from_numpy(info.scale_factors),
                num_classes=self.head.num_classes, stpp_stage=self.head.stpp_stage,
                use_regression=self.head.use_regression)
            reg = None
            if regression is not None:
                consts = torch.as_tensor(info.reg_norm_consts, dtype=regression.dtype)
                reg = (regression.view(-1, self.head.num_classes, 2) * consts[1] + consts[0]).numpy()
            rows = video_detections(info.relative_proposals, activity.numpy(), completeness.numpy(), reg,
                                    top_k=self.top_k, nms=self.nms, use_regression=self.head.use_regression)
            out.append([Detection(info.video_id, start * info.num_frames, end * info.num_frames,
                                  class_name(label + 1, info.class_names), score)
                        for label, start, end, score in rows])
        return out
