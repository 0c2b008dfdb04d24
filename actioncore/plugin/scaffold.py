"""``actioncore plugin new``: a third-party plugin package that installs, registers and tests."""
from __future__ import annotations

import re
from pathlib import Path

import attrs

from ..errors import ConfigError

_COMPONENTS: dict[str, tuple[str, str, dict, str]] = {
    # kind: (hook, class body, contract table, check of the built component)
    "backbone": ("actioncore_backbones", '''
import torch
from torch import nn


class {cls}(nn.Module):
    """A 3D-convolution block: ``[N, C, T, H, W]`` -> ``[N, width, T, H, W]``."""

    def __init__(self, *, in_channels: int = 3, width: int = 16):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, width, kernel_size=3, padding=1, bias=False)
        self.norm = nn.BatchNorm3d(width)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.norm(self.conv(x)))
''', {"width": 8}, '''
    out = component(torch.zeros(2, 3, 4, 16, 16))
    assert out.shape == (2, 8, 4, 16, 16)
'''),
    "neck": ("actioncore_necks", '''
import torch
from torch import nn


class {cls}(nn.Module):
    """Average over time: ``[N, C, T, H, W]`` -> ``[N, C, 1, H, W]``."""

    def __init__(self, *, keepdim: bool = True):
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=2, keepdim=self.keepdim)
''', {"keepdim": True}, '''
    out = component(torch.ones(2, 3, 4, 5, 5))
    assert out.shape == (2, 3, 1, 5, 5)
'''),
    "head": ("actioncore_heads", """
import torch
from torch import nn


class {cls}(nn.Module):
    \"\"\"Average pooling and a linear classifier: backbone (or neck) features -> ``[N, num_classes]``.

    A 3D recognizer calls ``head(features)`` with ``[N, C, T, H, W]`` features (one row per view);
    a 2D recognizer calls ``head(features, num_segs=S)`` with ``[N * S, C, H, W]`` features, the
    S frames of each sample in a row, and expects them fused into one row per sample (TSN's
    consensus: the mean).
    \"\"\"

    def __init__(self, *, in_channels: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        x = x.flatten(2).mean(dim=2)  # pool every axis after the channels: [rows, C]
        if num_segs is not None:
            x = x.view(-1, num_segs, x.shape[1]).mean(dim=1)  # the segments of each sample
        return self.fc(self.dropout(x))
""", {"in_channels": 8, "num_classes": 5}, """
    assert component(torch.zeros(2, 8, 4, 3, 3)).shape == (2, 5)  # 3D: one row per clip
    frames = torch.arange(6.0).view(6, 1, 1, 1).expand(6, 8, 3, 3)  # 2D: 2 samples x 3 frames
    pooled = component.fc(torch.tensor([[1.0] * 8, [4.0] * 8]))  # each sample's mean frame
    assert torch.allclose(component.eval()(frames, num_segs=3), pooled)
"""),
    "transform": ("actioncore_transforms", """
from typing import ClassVar

import numpy as np

from actioncore.sdk.data import VideoSample


class {cls}:
    \"\"\"Play each clip backwards, with probability ``ratio`` (drawn per sample from ``sample.rng``).

    A pipeline step is called with the pipeline's :class:`VideoSample` and returns it. Before
    ``decode`` this one reverses ``sample.frame_indices`` (``[num_clips, clip_len]``; the frames are
    then read backwards); after it, ``sample.frames`` (uint8 ``[crops * clips * clip_len, H, W, 3]``)
    clip by clip. ``needs_pixels = False``: reversing time commutes with the pending resize or crop.
    \"\"\"

    needs_pixels: ClassVar[bool] = False

    def __init__(self, *, ratio: float = 0.5):
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must be in [0, 1], got {{ratio}}")
        self.ratio = ratio

    def __call__(self, sample: VideoSample) -> VideoSample:
        if sample.frames is None and sample.frame_indices is None:
            raise ValueError(f"{{sample.source}}: put this step after a frame sampler (sample_frames)")
        if sample.rng.random() >= self.ratio:
            return sample
        if sample.frames is None:
            sample.frame_indices = np.ascontiguousarray(sample.frame_indices[:, ::-1])
        else:
            clips = sample.frames.unflatten(0, (-1, sample.clip_len))
            sample.frames = clips.flip(1).flatten(0, 1)
            if sample.boxes is not None:  # one box array per frame, reversed along
                n = sample.clip_len
                sample.boxes = [box for start in range(0, len(sample.boxes), n)
                                for box in sample.boxes[start:start + n][::-1]]
        return sample
""", {"ratio": 1.0}, """
    import numpy as np
    from actioncore.sdk.data import VideoSample

    sampled = VideoSample(source="v.mp4", frame_indices=np.arange(8).reshape(2, 4), num_clips=2, clip_len=4)
    assert component(sampled).frame_indices.tolist() == [[3, 2, 1, 0], [7, 6, 5, 4]]
    frames = torch.arange(4, dtype=torch.uint8).view(4, 1, 1, 1).expand(4, 2, 2, 3)
    decoded = VideoSample(source="v.mp4", frames=frames, num_clips=2, clip_len=2)
    assert component(decoded).frames[:, 0, 0, 0].tolist() == [1, 0, 3, 2]
"""),
    "metric": ("actioncore_metrics", """
import numpy as np


class {cls}:
    \"\"\"Fraction of samples whose top-scoring class is the label.

    A metric is called once per evaluation with NumPy arrays over the whole split: ``scores``
    float ``[N, num_classes]`` and ``labels`` int ``[N]`` (``[N, num_classes]`` for multi-label
    data); it returns ``{{metric name: number}}``.
    \"\"\"

    def __init__(self, *, name: str = "{name}_accuracy"):
        self.name = name

    def __call__(self, scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        scores, labels = np.asarray(scores), np.asarray(labels)
        if scores.ndim != 2 or labels.shape != scores.shape[:1]:
            raise ValueError(f"{{self.name}}: needs scores [N, classes] and labels [N], got "
                             f"{{list(scores.shape)}} and {{list(labels.shape)}}")
        return {{self.name: float(np.mean(scores.argmax(axis=1) == labels))}}
""", {}, """
    import numpy as np

    result = component(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    assert result == {{"{name}_accuracy": 0.5}}
"""),
}

SUPPORTED_KINDS = tuple(_COMPONENTS)
EXAMPLE_TABLES = {kind: entry[2] for kind, entry in _COMPONENTS.items()}
"""The parameters each generated test builds its component with."""

def _kernel_requirement() -> str:
    """``actioncore>=X.Y,<X+1`` for the installed kernel: a plugin is written against this API."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(part) for part in version("actioncore").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return "actioncore"
    return f"actioncore>={major}.{minor},<{major + 1}"


_PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "An actioncore plugin registering the {kind} '{name}'"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["{kernel}", "torch>=2.4", "numpy>=1.26"]

[project.entry-points.actioncore]
{name} = "{package}.hooks"

[tool.actioncore.provides]  # what the hooks register, readable without importing (install hints)
{kind} = ["{name}"]

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.pytest.ini_options]
actioncore_plugins = ["{package}.hooks"]
'''

_HOOKS = '''from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .component import {cls}


@actioncore.hookimpl
def {hook}() -> Mapping[str, Factory]:
    return {{"{name}": {cls}}}
'''

_TEST = '''"""Runs against the installed package: pip install -e . && pytest"""
from importlib import metadata

import torch
from pathlib import Path

from actioncore.testing import assert_component_contract, assert_manifest_matches


def test_plugin_is_discovered_through_its_entry_point():
    entry_points = metadata.entry_points(group="actioncore")
    assert any(ep.value == "{package}.hooks" and ep.dist.name == "{dist}" for ep in entry_points)


def test_manifest_says_what_the_hooks_register():
    assert_manifest_matches(Path(__file__).parents[1])


def test_component_honours_the_contract(actioncore_host):
    component = assert_component_contract(actioncore_host, "{kind}", "{name}", {table})
{check}'''

_README = '''# {dist}

An [actioncore](https://github.com/actioncore/actioncore) plugin that registers the {kind} `{name}`.

    pip install -e .
    actioncore components {kind}      # lists {name} under {dist}
    pytest

Use it in an experiment: `type = "{name}"` in the {kind} table. Replace `component.py` with your
own code; its keyword parameters, with their type annotations, are the config schema (a parameter
without one fails the contract test). The docstring of `component.py` says what the kernel calls a
{kind} with; actioncore's docs/plugins.md lists it for every kind.
'''


@attrs.frozen
class Scaffold:
    root: Path
    distribution: str
    package: str
    files: list[Path]


def scaffold(name: str, *, kind: str, parent: Path) -> Scaffold:
    """Write ``parent/actioncore-NAME/``: pyproject with the entry point, hooks, component, test."""
    if not re.fullmatch(r"[a-z][a-z0-9]*([-_][a-z0-9]+)*", name):
        raise ConfigError(f"plugin name '{name}': use lower-case letters, digits and single '-' or '_' "
                          "between them, starting with a letter (e.g. 'acme' or 'my-net')")
    if kind not in _COMPONENTS:
        raise ConfigError(f"plugin new --kind {kind}: supported kinds are {', '.join(SUPPORTED_KINDS)}")
    name = name.replace("-", "_")  # the component's and the package's name: a Python identifier
    dist = f"actioncore-{name.replace('_', '-')}"
    package = f"actioncore_{name}"
    cls = "".join(part.capitalize() for part in name.split("_")) + kind.capitalize()
    hook, body, table, check = _COMPONENTS[kind]
    root = parent / dist
    if root.exists():
        raise ConfigError(f"{root} already exists; choose another name or --out folder")
    values = dict(dist=dist, package=package, name=name, kind=kind, cls=cls, hook=hook, kernel=_kernel_requirement())
    files = {
        "pyproject.toml": _PYPROJECT.format(**values),
        "README.md": _README.format(**values),
        f"{package}/__init__.py": f'"""The {kind} \'{name}\' for actioncore."""\nfrom .component import {cls}\n\n__all__ = ["{cls}"]\n',
        f"{package}/hooks.py": _HOOKS.format(**values),
        f"{package}/component.py": f'"""The {kind} \'{name}\'."""\nfrom __future__ import annotations\n'
                                   + body.format(**values),
        f"tests/test_{name}.py": _TEST.format(**values, table=repr(table), check=check.format(**values)),
    }
    written = []
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return Scaffold(root=root, distribution=dist, package=package, files=written)
