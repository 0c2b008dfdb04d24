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
    "head": ("actioncore_heads", '''
import torch
from torch import nn


class {cls}(nn.Module):
    """Global average pooling and a linear classifier: features -> ``[N, num_classes]``."""

    def __init__(self, *, in_channels: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x.flatten(2).mean(dim=2)))
''', {"in_channels": 8, "num_classes": 5}, '''
    out = component(torch.zeros(2, 8, 4, 3, 3))
    assert out.shape == (2, 5)
'''),
    "transform": ("actioncore_transforms", '''
import torch


class {cls}:
    """Reverse the clip in time with probability ``ratio``."""

    def __init__(self, *, ratio: float = 0.5):
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must be in [0, 1], got {{ratio}}")
        self.ratio = ratio

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        return frames.flip(0) if torch.rand(()) < self.ratio else frames
''', {"ratio": 1.0}, '''
    clip = torch.arange(4).view(4, 1)
    assert component(clip).flatten().tolist() == [3, 2, 1, 0]
'''),
    "metric": ("actioncore_metrics", '''
import torch


class {cls}:
    """Fraction of samples whose top-scoring class is the label."""

    def __init__(self, *, name: str = "{name}_accuracy"):
        self.name = name

    def __call__(self, scores: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        return {{self.name: (scores.argmax(dim=1) == labels).float().mean().item()}}
''', {}, '''
    result = component(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1]))
    assert result == {{"{name}_accuracy": 0.5}}
'''),
}

SUPPORTED_KINDS = tuple(_COMPONENTS)
EXAMPLE_TABLES = {kind: entry[2] for kind, entry in _COMPONENTS.items()}
"""The parameters each generated test builds its component with."""

_PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "An actioncore plugin registering the {kind} '{name}'"
requires-python = ">=3.11"
dependencies = ["actioncore", "torch"]

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
own code; its keyword parameters, with their type annotations, are the config schema.
'''


@attrs.frozen
class Scaffold:
    root: Path
    distribution: str
    package: str
    files: list[Path]


def scaffold(name: str, *, kind: str, parent: Path) -> Scaffold:
    """Write ``parent/actioncore-NAME/``: pyproject with the entry point, hooks, component, test."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(f"plugin name '{name}': use lower-case letters, digits and '_', "
                          "starting with a letter (e.g. 'acme')")
    if kind not in _COMPONENTS:
        raise ConfigError(f"plugin new --kind {kind}: supported kinds are {', '.join(SUPPORTED_KINDS)}")
    dist = f"actioncore-{name.replace('_', '-')}"
    package = f"actioncore_{name}"
    cls = "".join(part.capitalize() for part in name.split("_")) + kind.capitalize()
    hook, body, table, check = _COMPONENTS[kind]
    root = parent / dist
    if root.exists():
        raise ConfigError(f"{root} already exists; choose another name or --out folder")
    values = dict(dist=dist, package=package, name=name, kind=kind, cls=cls, hook=hook)
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
