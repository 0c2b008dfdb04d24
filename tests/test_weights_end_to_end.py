"""A torchvision checkpoint from the (loopback) internet to class names, through every layer at once:
the zoo entry, the download service, the cache, conversion on first use, ``infer --weights NAME``,
``actioncore.load_pretrained`` and offline reuse."""
from __future__ import annotations

import json
import types

import pytest
import torch
import torchvision

import actioncore
from actioncore.cli import main
from actioncore.plugin.host import PluginHost, use_host
from actioncore.sdk.weights import WeightsEntry, class_names
from actioncore.weights import cache
from actioncore.weights.download import file_sha256

NAME = "tv_mc3_18_ucf101_random"


@pytest.fixture
def served(weights_server, monkeypatch):
    """A random-weight torchvision mc3_18 for UCF-101 on the loopback server, registered as a zoo
    entry whose experiment is the torchvision plugin's tiny example (with overrides)."""
    torch.manual_seed(0)
    source = torchvision.models.video.mc3_18(num_classes=101).state_dict()
    path = weights_server.root / "mc3_18_ucf101-random.pth"
    torch.save(source, path)
    entry = WeightsEntry(
        name=NAME, architecture="mc3_18", task="recognition", dataset="ucf101", classes="ucf101", num_classes=101,
        url=weights_server.url(path.name), sha256=file_sha256(path), file_size=path.stat().st_size,
        source_format="torchvision", package="actioncore_torchvision_video",
        experiment="examples/tv_video_resnet_tiny_embedded.toml",
        overrides=("model.backbone.type=tv_mc3_18", "model.head.num_classes=101"))
    plugin = types.ModuleType("served_zoo")
    plugin.actioncore_weights = actioncore.hookimpl(lambda: {NAME: entry})
    with use_host(PluginHost()) as host:
        assert host.register(plugin, distribution="served-zoo", version="1.0") is not None, host.registry.failures
        yield types.SimpleNamespace(source=source, entry=entry, server=weights_server, file=path.name)


def test_a_torchvision_checkpoint_is_downloaded_converted_once_and_named(served, tiny_data, capsys, monkeypatch):
    video = str(sorted((tiny_data / "videos").rglob("*.mp4"))[0])
    assert main(["infer", "--weights", NAME, video, "--topk", "3", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    ucf = class_names("ucf101")
    assert [p["name"] for p in result["predictions"]] == [ucf[p["label"]] for p in result["predictions"]]
    assert served.server.count(served.file) == 1
    assert cache.cached_file(served.entry).is_file() and cache.converted_file(served.entry).is_file()

    pretrained = actioncore.load_pretrained(NAME)  # from the cache: no second request
    assert served.server.count(served.file) == 1
    state = pretrained.model.state_dict()
    assert torch.equal(state["backbone.net.stem.0.weight"], served.source["stem.0.weight"])
    assert torch.equal(state["backbone.net.layer4.1.conv2.0.weight"], served.source["layer4.1.conv2.0.weight"])
    assert torch.equal(state["head.fc_cls.weight"], served.source["fc.weight"])
    assert pretrained.classes == ucf and not pretrained.model.training

    # the converted model computes what torchvision's own network does on the same clip
    clip = pretrained.transforms(video)
    net = torchvision.models.video.mc3_18(num_classes=101).eval()
    net.load_state_dict(served.source)
    with torch.no_grad():
        ours = pretrained.model(clip)
        theirs = torch.softmax(net(clip.flatten(0, 1)), dim=1).mean(0, keepdim=True)  # average_clips = "prob"
    assert torch.allclose(ours.reshape(theirs.shape), theirs, atol=1e-5)

    monkeypatch.setenv("ACTIONCORE_OFFLINE", "1")  # everything is cached: offline works the same
    assert main(["infer", "--weights", NAME, video, "--topk", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [result]
    assert served.server.count(served.file) == 1
