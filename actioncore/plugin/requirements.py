"""Checking an experiment's ``[plugins] require`` list against what is installed and loaded."""
from __future__ import annotations

from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import ConfigError, PluginError
from .manifests import install_hint
from .host import AUTOLOAD_ENV, PluginHost


def check_requirements(requirements: list[str], host: PluginHost, source: str) -> None:
    """Raise unless every required distribution is installed, loaded, healthy and of a fitting version."""
    loaded = {canonicalize_name(d): v for d, v in host.distributions().items()}
    broken = {canonicalize_name(f.distribution): f for f in host.failures
              if f.stage in ("import", "register")}
    for i, text in enumerate(requirements):
        where = f"{source}: plugins.require[{i}]"
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise ConfigError(f"{where}: '{text}' is not a requirement like 'actioncore-tsm>=0.1': {exc}") from None
        name = canonicalize_name(req.name)
        if name in broken:
            raise PluginError(f"{where}: the experiment requires {req.name}, which failed to load: "
                              f"{broken[name].describe()}")
        version = loaded.get(name)
        if version is None:
            try:
                installed = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                raise PluginError(f"{where}: the experiment requires {req.name}, which is not "
                                  f"installed: {install_hint(name)}") from None
            raise PluginError(f"{where}: {req.name} {installed} is installed but its plugin is not "
                              f"loaded (is {AUTOLOAD_ENV}=1 set, or is it listed in "
                              "ACTIONCORE_DISABLED_PLUGINS?)")
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            raise PluginError(f"{where}: the experiment requires {text}, but {req.name} {version} "
                              f"is installed: pip install '{text}'")
