"""How per-video side files (image scores, person boxes) name a video: a tail of its path.

MMAction2-era files key a video by its file name without extension (``v_ApplyEyeMakeup_g08_c01``,
the ``frame_dir`` basename). Where names repeat across folders (``square/train_0000.mp4`` and
``disc/train_0000.mp4``) a longer tail of the path, ``square/train_0000``, is the key. Readers try
the file name first, then ever longer tails; writers use the shortest tail that is unique in
their list, so files written by the original tools and by ours read the same way.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Container, Sequence
from pathlib import PurePath


def key_tails(source: str | os.PathLike[str]) -> list[str]:
    """Candidate keys of ``source``, shortest first: ``name``, ``parent/name``, ... (``name``
    without its extension for a file; a frame folder keeps its whole name)."""
    parts = list(PurePath(os.fspath(source)).parts)
    if not parts:
        return []
    if PurePath(parts[-1]).suffix and not os.path.isdir(source):
        parts[-1] = PurePath(parts[-1]).stem
    parts = [p for p in parts if p not in ("/", "")]
    return ["/".join(parts[-depth:]) for depth in range(1, len(parts) + 1)]


def video_key(source: str | os.PathLike[str]) -> str:
    """The short key of ``source``: its file name without extension (a folder: its name)."""
    tails = key_tails(source)
    return tails[0] if tails else os.fspath(source)


def find_key(source: str | os.PathLike[str], keys: Container[str]) -> str | None:
    """The first of :func:`key_tails` that ``keys`` holds, or None."""
    return next((key for key in key_tails(source) if key in keys), None)


def unique_keys(sources: Sequence[str | os.PathLike[str]]) -> list[str]:
    """For each source the shortest tail no other source shares (the key a writer should use)."""
    tails = [key_tails(s) for s in sources]
    depth_needed = [1] * len(sources)
    while True:
        counts = Counter(t[min(d, len(t)) - 1] for t, d in zip(tails, depth_needed))
        clashes = [i for i, (t, d) in enumerate(zip(tails, depth_needed))
                   if counts[t[min(d, len(t)) - 1]] > 1 and d < len(t)]
        if not clashes:
            return [t[min(d, len(t)) - 1] for t, d in zip(tails, depth_needed)]
        for i in clashes:
            depth_needed[i] += 1
