"""``actioncore data convert ava_proposals IN.pkl OUT.csv --trust-pickle``: MMAction2's person proposals.

MMAction2 ships AVA person proposals (``ava_dense_proposals_{train,val}.FAIR.recall_93.9.pkl``)
as a pickled ``{"video_id,TTTT": float array [P, 4 or 5]}`` mapping (normalised x1, y1, x2, y2 and
the detector's score). The pickle is loaded once, only through
:func:`actioncore.data.pickles.load_trusted_pickle`, and written as a proposals CSV
(``video_id,timestamp,x1,y1,x2,y2[,score]``) that the ``ava`` dataset reads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from actioncore.sdk.data import load_trusted_pickle
from actioncore.sdk import DataError

from .annotations import image_key, write_proposals


def convert_ava_proposals(source: Path, target: Path, *, trust_pickle: bool) -> dict[str, Any]:
    """Convert; returns ``{"keyframes", "boxes", "target"}``. Boxes keep their order."""
    data = load_trusted_pickle(source, trust=trust_pickle, what="AVA person proposals")
    if not isinstance(data, dict):
        raise DataError(f"{source}: expected a dict 'video_id,timestamp' -> array of boxes, got {type(data).__name__}",
                        path=str(source))
    proposals: dict[str, np.ndarray] = {}
    for key, value in data.items():
        video_id, _, timestamp = str(key).rpartition(",")
        if not video_id or not timestamp.isdigit():
            raise DataError(f"{source}: key {key!r} is not 'video_id,timestamp'", path=str(source))
        boxes = np.asarray(value, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
            raise DataError(f"{source}: {key}: expected an array [P, 4] or [P, 5], got shape {list(boxes.shape)}",
                            path=str(source))
        if boxes.size and (boxes[:, :4].min() < 0 or boxes[:, :4].max() > 1):
            raise DataError(f"{source}: {key}: proposal boxes must be normalised to [0, 1] "
                            f"(found {boxes[:, :4].min():.3f} .. {boxes[:, :4].max():.3f})", path=str(source))
        proposals[image_key(video_id, int(timestamp))] = boxes
    rows = write_proposals(target, proposals)
    return {"keyframes": len(proposals), "boxes": rows, "target": str(target)}
