"""BMN's loss: temporal evaluation (start/end) plus proposal evaluation (regression, classification).

As in the paper and MMAction2 1.2.0: ``tem + 10 * pem_reg + pem_cls`` by default. The regression
term samples medium- and low-IoU proposals at random so that each IoU band weighs about as much as
the high-IoU one (``torch.rand_like``: reproducible under the run's seed).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from actioncore_localization import binary_logistic_regression_loss


def tem_loss(pred_start: torch.Tensor, pred_end: torch.Tensor, gt_start: torch.Tensor,
             gt_end: torch.Tensor) -> torch.Tensor:
    """Balanced logistic loss of the start and end probabilities, summed."""
    return binary_logistic_regression_loss(pred_start, gt_start) + binary_logistic_regression_loss(pred_end, gt_end)


def pem_reg_loss(pred_score: torch.Tensor, gt_iou_map: torch.Tensor, mask: torch.Tensor, *,
                 high_threshold: float = 0.7, low_threshold: float = 0.3) -> torch.Tensor:
    """Squared error of the IoU regression map over all high-IoU proposals and equally many
    randomly drawn medium (IoU in (low, high]) and low (IoU in (0, low], valid only) ones."""
    high = (gt_iou_map > high_threshold).float()
    medium = ((gt_iou_map <= high_threshold) & (gt_iou_map > low_threshold)).float()
    low = ((gt_iou_map <= low_threshold) & (gt_iou_map > 0.0)).float() * mask
    num_high, num_medium, num_low = high.sum(), medium.sum(), low.sum()
    keep_medium = (medium * torch.rand_like(gt_iou_map) > 1.0 - num_high / num_medium).float()
    keep_low = (low * torch.rand_like(gt_iou_map) > 1.0 - num_high / num_low).float()
    weights = high + keep_medium + keep_low
    mse = F.mse_loss(pred_score * weights, gt_iou_map * weights)
    return 0.5 * torch.sum(mse * torch.ones_like(weights)) / torch.sum(weights)


def pem_cls_loss(pred_score: torch.Tensor, gt_iou_map: torch.Tensor, mask: torch.Tensor, *,
                 threshold: float = 0.9, ratio_range: tuple[float, float] = (1.05, 21.0),
                 eps: float = 1e-5) -> torch.Tensor:
    """Class-balanced logistic loss of the classification map: IoU > ``threshold`` is positive."""
    positive = (gt_iou_map > threshold).float()
    negative = (gt_iou_map <= threshold).float() * mask
    num_positive = torch.clamp(positive.sum(), min=1.0)
    num_entries = num_positive + negative.sum()
    ratio = torch.clamp(num_entries / num_positive, ratio_range[0], ratio_range[1])
    coef_0 = 0.5 * ratio / (ratio - 1)
    coef_1 = 0.5 * ratio
    loss = coef_1 * torch.log(pred_score + eps) * positive + coef_0 * torch.log(1.0 - pred_score + eps) * negative
    return -torch.sum(loss) / num_entries


def bmn_loss(confidence_map: torch.Tensor, pred_start: torch.Tensor, pred_end: torch.Tensor,
             gt_iou_map: torch.Tensor, gt_start: torch.Tensor, gt_end: torch.Tensor, bm_mask: torch.Tensor, *,
             weight_tem: float = 1.0, weight_pem_reg: float = 10.0, weight_pem_cls: float = 1.0
             ) -> dict[str, torch.Tensor]:
    """``{"loss", "tem_loss", "pem_reg_loss", "pem_cls_loss"}``; channel 0 of the map regresses, 1 classifies."""
    gt_iou_map = gt_iou_map * bm_mask
    reg = pem_reg_loss(confidence_map[:, 0].contiguous(), gt_iou_map, bm_mask)
    cls = pem_cls_loss(confidence_map[:, 1].contiguous(), gt_iou_map, bm_mask)
    tem = tem_loss(pred_start, pred_end, gt_start, gt_end)
    return {"loss": weight_tem * tem + weight_pem_reg * reg + weight_pem_cls * cls,
            "tem_loss": tem, "pem_reg_loss": reg, "pem_cls_loss": cls}
