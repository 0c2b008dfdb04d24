"""What changed between the experiment a checkpoint was trained with and the one resuming it.

A resumed run continues exactly only under the same experiment. The checkpoint stores the
resolved experiment; ``--resume`` compares it with today's and refuses a difference (naming every
changed key) unless ``--allow-changes`` says to continue under the new values.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

IGNORED = frozenset({"runtime.work_dir"})
"""Keys whose change cannot alter the run (the work dir is where the checkpoint was found)."""


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


def experiment_changes(stored: str, current: str, defaults: str = "") -> list[str]:
    """``key: stored -> current`` for every key whose value differs (added and removed keys too).

    A key the stored experiment lacks whose current value is its default in ``defaults`` (a
    section option a newer actioncore added, doing what the older one did) is no change.
    """
    before, after = _flatten(tomllib.loads(stored)), _flatten(tomllib.loads(current))
    default = _flatten(tomllib.loads(defaults)) if defaults else {}
    missing = object()
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, missing), after.get(key, missing)
        if old is missing and key in default and default[key] == new:
            continue
        if key not in IGNORED and old != new:
            changes.append(f"{key}: {'(unset)' if old is missing else repr(old)} -> "
                           f"{'(unset)' if new is missing else repr(new)}")
    return changes
