"""convert_source: each source layout reaches the code that knows it, and the kernel only routes."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from actioncore.errors import CheckpointError
from actioncore.sdk.weights import convert_source


class Wrapped(nn.Module):
    """A backbone wrapping another toolbox's network whose file also holds the classifier."""

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(3, 4)

    def from_torchvision(self, state):
        return {"backbone": {f"net.{k[5:]}": v for k, v in state.items() if k.startswith("body.")},
                "head": {f"fc.{k[4:]}": v for k, v in state.items() if k.startswith("cls.")}}


class Model(nn.Module):
    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Module()
        self.head.fc = nn.Linear(4, 2)


def _file():
    return {"body.weight": torch.randn(4, 3), "body.bias": torch.randn(4),
            "cls.weight": torch.randn(2, 4), "cls.bias": torch.randn(2)}


def test_the_part_that_knows_the_layout_splits_the_file_and_the_kernel_prefixes_its_parts():
    model, state = Model(Wrapped()), _file()
    converted = convert_source(model, state, source_format="torchvision")
    assert sorted(converted) == sorted(model.state_dict())
    model.load_state_dict(converted)
    assert torch.equal(model.backbone.net.weight, state["body.weight"]) and torch.equal(model.head.fc.bias, state["cls.bias"])


def test_a_model_that_converts_itself_is_asked_first():
    model = Model(Wrapped())
    model.from_torchvision = lambda state: {"whole": state["body.bias"]}
    assert list(convert_source(model, _file(), source_format="torchvision")) == ["whole"]


def test_a_part_naming_a_part_the_model_lacks_is_refused():
    class Stray(Wrapped):
        def from_torchvision(self, state):
            return {"neck": {"x": state["body.bias"]}}

    with pytest.raises(CheckpointError, match="Stray.from_torchvision gave weights for 'neck', which Model does not have"):
        convert_source(Model(Stray()), _file(), source_format="torchvision")


def test_a_model_that_cannot_read_torchvision_files_says_so():
    with pytest.raises(CheckpointError, match="Model cannot read this checkpoint: neither it nor any of its parts "
                                              r"defines from_torchvision\(\)"):
        convert_source(Model(nn.Linear(3, 4)), _file(), source_format="torchvision")


def test_our_own_layout_is_kept_and_an_unknown_one_refused():
    state = _file()
    assert convert_source(Model(Wrapped()), state, source_format="actioncore") == state
    with pytest.raises(CheckpointError, match="no converter for checkpoints in the 'timm' layout"):
        convert_source(Model(Wrapped()), state, source_format="timm")
