from pathlib import Path

import numpy as np
import pytest

from actioncore_localization import VideoAnnotation

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_bsn" / "examples"


@pytest.fixture(scope="session")
def examples() -> Path:
    return EXAMPLES


def _make_video(name: str, segments, *, seconds: float = 100.0, frames: int = 1600,
                feature_frame: int | None = None) -> VideoAnnotation:
    return VideoAnnotation(video_name=name, duration_second=seconds, duration_frame=frames,
                           feature_frame=frames if feature_frame is None else feature_frame, fps=frames / seconds,
                           segments=np.asarray(segments, dtype=np.float64), labels=tuple("a" for _ in segments))


@pytest.fixture(scope="session")
def make_video():
    """``make_video(name, segments_s, seconds=100, frames=1600, feature_frame=frames)``: an annotation
    whose features cover ``feature_frame`` of the video's frames."""
    return _make_video


@pytest.fixture(scope="session")
def with_proposals():
    """``with_proposals(annotation, table)``: the annotation as a ``ProposalAnnotation``."""
    import attrs

    from actioncore_bsn import ProposalAnnotation

    def make(annotation: VideoAnnotation, table):
        base = {f.name: getattr(annotation, f.name) for f in attrs.fields(VideoAnnotation)}
        return ProposalAnnotation(**base, proposals=table)

    return make
