"""Pretrained files: recorded by constructors, read and loaded by build_model (actioncore.weights.pretrained)."""
from __future__ import annotations

import types

import pytest
import torch
from torch import nn

import actioncore
from actioncore.errors import CheckpointError
from actioncore.plugin.host import PluginHost, use_host
from actioncore.sdk.weights import PretrainedMixin, load_pretrained_files


class Stem(PretrainedMixin):
    """A backbone part with its own file, in torchvision-like naming (``0.weight``)."""

    def __init__(self, *, pretrained: str | None = None):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(4)
        self.pretrained = pretrained

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k.replace("0.", "conv.").replace("1.", "bn."): v for k, v in state.items()}


class Net(PretrainedMixin):
    def __init__(self, *, stem_pretrained: str | None = None, pretrained: str | None = None):
        super().__init__()
        self.stem = Stem(pretrained=stem_pretrained)
        self.fc = nn.Linear(4, 2)
        self.pretrained = pretrained


def save(path, module: nn.Module, *, scale: float, drop: tuple[str, ...] = ()) -> str:
    torch.save({k: v * scale if v.is_floating_point() else v for k, v in module.state_dict().items()
                if not k.endswith(drop)}, path)
    return str(path)


def stem_file(tmp_path, scale: float = 2.0) -> str:
    return save(tmp_path / "stem.pth", nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)), scale=scale,
                drop=("num_batches_tracked",))  # old torchvision files have none


@pytest.fixture
def net_host():
    host = PluginHost(autoload=False)
    hooks = types.ModuleType("net_hooks")
    hooks.actioncore_backbones = actioncore.hookimpl(lambda: {"net": Net})
    host.register(hooks, distribution="net-plugin", version="1.0")
    with use_host(host):
        yield host


def test_construction_reads_nothing(tmp_path):
    net = Net(pretrained=str(tmp_path / "missing.pth"), stem_pretrained=str(tmp_path / "gone.pth"))
    assert net.pretrained.endswith("missing.pth")


def test_build_loads_every_file_inner_modules_first(tmp_path, net_host):
    stem = stem_file(tmp_path)
    net = actioncore.build("backbone", "net", stem_pretrained=stem)
    torch.testing.assert_close(net.stem.conv.weight, torch.load(stem)["0.weight"])
    assert net.stem.bn.num_batches_tracked == 0, "absent from the file: kept"
    whole = save(tmp_path / "net.pth", Net(), scale=3.0)
    net = actioncore.build("backbone", "net", stem_pretrained=stem, pretrained=whole)
    torch.testing.assert_close(net.stem.conv.weight, torch.load(whole)["stem.conv.weight"])


def test_each_file_is_read_once_and_each_module_loaded_once(tmp_path, monkeypatch):
    from actioncore.weights import pretrained

    reads = []
    real = pretrained.read_weights
    monkeypatch.setattr(pretrained, "read_weights", lambda path: reads.append(path) or real(path))
    stem = stem_file(tmp_path)
    net = nn.ModuleList([Stem(pretrained=stem), Stem(pretrained=stem)])
    assert load_pretrained_files(net) is net and len(reads) == 1
    with torch.no_grad():
        net[0].conv.weight.zero_()
    load_pretrained_files(nn.Sequential(net))  # built again into a bigger model: keeps what it has
    assert len(reads) == 1 and not net[0].conv.weight.any()


def test_a_file_that_does_not_fit_names_the_file_and_the_module(tmp_path, net_host):
    wrong = save(tmp_path / "wrong.pth", nn.Sequential(nn.Conv2d(3, 5, 1), nn.BatchNorm2d(5)), scale=1.0)
    with pytest.raises(CheckpointError, match=r"wrong\.pth: does not fit Stem: 0 missing .* of another shape "
                                              r".*conv\.weight.* \(the pretrained file of module 'stem'\)"):
        actioncore.build("backbone", "net", stem_pretrained=wrong)
    with pytest.raises(CheckpointError, match=r"absent\.pth: checkpoint not found"):
        actioncore.build("backbone", "net", stem_pretrained=str(tmp_path / "absent.pth"))
    listing = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listing)
    with pytest.raises(CheckpointError, match=r"list\.pth: not a state dict"):
        load_pretrained_files(Stem(pretrained=str(listing)))
    extra = tmp_path / "extra.pth"
    torch.save({**torch.load(stem_file(tmp_path)), "2.weight": torch.zeros(1)}, extra)
    with pytest.raises(CheckpointError, match=r"extra\.pth: does not fit Stem: 0 missing .*, 1 unexpected "
                                              r"\(e\.g\. \['2\.weight'\]\)"):
        load_pretrained_files(Stem(pretrained=str(extra)))


def test_build_model_loads_the_files_of_a_whole_model(tmp_path, net_host):
    net_host.register("actioncore_toy3d.hooks")
    stem = stem_file(tmp_path, scale=5.0)
    model = actioncore.build_model({"type": "sequential", "backbone": {"type": "net", "stem_pretrained": stem},
                                    "head": {"type": "linear_head", "in_channels": 2, "num_classes": 2}})
    torch.testing.assert_close(model.backbone.stem.bn.running_var, torch.full((4,), 5.0))
