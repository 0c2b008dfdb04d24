"""TSN: the ResNet-50 model's parameter count and MMAction2 checkpoint conversion (the head's own
tests are actioncore-cls-heads')."""
import pytest
import torch
from torch import nn

from actioncore.sdk import CheckpointError
from actioncore_cls_heads import TSNHead
from actioncore_tsn import ResNet, convert_mmaction2


def test_tsn_r50_parameter_count_is_mmaction2s():
    with torch.device("meta"):
        modules = ResNet(depth=50), TSNHead(num_classes=400)
    total = sum(p.numel() for m in modules for p in m.parameters())
    assert total == 24_327_632


def test_convert_mmaction2_renames_the_head_and_drops_preprocessor_buffers():
    weight, bias, conv = torch.zeros(3, 8), torch.zeros(3), torch.zeros(64, 3, 7, 7)
    state = {
        "backbone.conv1.conv.weight": conv,
        "cls_head.fc_cls.weight": weight,
        "cls_head.fc_cls.bias": bias,
        "data_preprocessor.mean": torch.zeros(3, 1, 1),
    }
    expected = {"backbone.conv1.conv.weight": conv, "head.fc_cls.weight": weight,
                "head.fc_cls.bias": bias}
    assert convert_mmaction2(state) == expected
    assert convert_mmaction2({"state_dict": state, "meta": {"epoch": 100}}) == expected
    assert convert_mmaction2({f"module.{k}": v for k, v in state.items()}) == expected
    with pytest.raises(CheckpointError, match="roi_head.fc.weight"):
        convert_mmaction2({**state, "roi_head.fc.weight": weight})


def test_converted_checkpoint_loads_strictly_into_backbone_and_head():
    class Recognizer(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = ResNet(depth=18, num_stages=1, out_indices=(0,), strides=(1,),
                                   dilations=(1,))
            self.head = TSNHead(num_classes=5, in_channels=64)

    source, target = Recognizer(), Recognizer()
    mmaction = {f"backbone.{k}": v for k, v in source.backbone.state_dict().items()}
    mmaction |= {f"cls_head.{k}": v for k, v in source.head.state_dict().items()}
    target.load_state_dict(convert_mmaction2(mmaction), strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
