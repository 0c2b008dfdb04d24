"""What plugins say they provide, read from their metadata without importing them (install hints).

A plugin distribution lists its components in its ``pyproject.toml``::

    [tool.actioncore.provides]
    backbone = ["resnet3d", "c3d"]
    head = ["i3d"]

The kernel reads these manifests from two places, and from nowhere else (it keeps no table of
plugins): the plugin folders of the checkout the kernel itself is installed from
(``plugins/<kind>/<name>/``), and installed distributions of the ``actioncore`` entry-point group
that were installed from a folder (PEP 610 ``direct_url.json``: editable and local installs).
``actioncore.testing.assert_manifest_matches`` checks a manifest against what the plugin's hooks
register, so a manifest cannot drift from its code.
"""
from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import attrs
from packaging.utils import canonicalize_name

ENTRY_POINT_GROUP = "actioncore"


@attrs.frozen
class Manifest:
    """A distribution, the folder it was found in, and ``{kind: names}`` it says it provides."""

    distribution: str
    folder: Path
    """Where it was found: relative to the checkout for the checkout's plugins."""
    provides: dict[str, tuple[str, ...]]
    installed: bool

    def install_hint(self) -> str:
        hint = f"pip install {self.distribution}"
        return hint if self.installed else f"{hint} (from a checkout: pip install -e {self.folder})"


def read_manifest(folder: Path, *, installed: bool = False, shown_as: Path | None = None) -> Manifest | None:
    """The manifest in ``folder/pyproject.toml``, or None when there is none (or it is unreadable);
    ``shown_as`` is the folder as hints name it."""
    try:
        document = tomllib.loads((folder / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    provides = document.get("tool", {}).get("actioncore", {}).get("provides")
    name = document.get("project", {}).get("name")
    if not isinstance(provides, dict) or not isinstance(name, str):
        return None
    return Manifest(distribution=name, folder=shown_as or folder, installed=installed,
                    provides={kind: tuple(names) for kind, names in provides.items() if isinstance(names, list)})


def _checkout_plugins() -> Iterator[Manifest]:
    root = Path(__file__).resolve().parents[2]
    for pyproject in sorted(root.glob("plugins/*/*/pyproject.toml")):
        manifest = read_manifest(pyproject.parent, shown_as=pyproject.parent.relative_to(root))
        if manifest is not None:
            yield manifest


def _installed_plugins() -> Iterator[Manifest]:
    seen = set()
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is None or ep.dist.metadata["Name"] in seen:
            continue
        seen.add(ep.dist.metadata["Name"])
        try:
            url = json.loads(ep.dist.read_text("direct_url.json") or "{}").get("url", "")
        except ValueError:
            continue
        if url.startswith("file://"):
            manifest = read_manifest(Path(unquote(urlparse(url).path)), installed=True)
            if manifest is not None:
                yield manifest


@functools.cache
def manifests() -> tuple[Manifest, ...]:
    """Installed plugins' manifests first, then the checkout's (each distribution once)."""
    found: dict[str, Manifest] = {}
    for manifest in (*_installed_plugins(), *_checkout_plugins()):
        found.setdefault(canonicalize_name(manifest.distribution), manifest)
    return tuple(found.values())


def provider_of(kind: str, name: str) -> Manifest | None:
    """The manifest of a distribution that says it provides ``name`` in ``kind``, if any."""
    return next((m for m in manifests() if name in m.provides.get(kind, ())), None)


def install_hint(distribution: str) -> str:
    """``pip install NAME``, with the checkout folder when the distribution is one of its plugins."""
    wanted = canonicalize_name(distribution)
    manifest = next((m for m in manifests() if canonicalize_name(m.distribution) == wanted), None)
    return manifest.install_hint() if manifest is not None else f"pip install {distribution}"
