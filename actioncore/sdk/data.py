"""Types and helpers for dataset plugins and pipeline steps.

A dataset factory returns an object with ``records`` (a sequence of :class:`ClipRecord`) and a
``pipeline`` (:class:`Pipeline` of steps); the kernel wraps it in a :class:`ClipDataset` with the
experiment's decoder. A step is a callable ``VideoSample -> VideoSample`` (:class:`Step`).

An embedded data set generator (hook ``actioncore_synth``) claims its folder with
:func:`prepare_out`, validates its seed with :func:`check_seed`, starts its ``README.txt`` with
:data:`SYNTH_MARKER`, may write frames with :func:`write_mp4` / :func:`write_jpegs`, and returns a
:class:`SynthReport`.

Distillation targets: :class:`ImageScores` reads an image-score ``.npz`` (per-frame class
probabilities of an image classifier, written by ``actioncore data image-scores`` or, one video
at a time, by :class:`ImageScoresWriter`), keyed by
a tail of each video's path (:func:`video_key`, :func:`find_key`, :func:`unique_keys`), as
person-box files are. Converters of video-data-aug's pickled
``.npy`` files open them with :func:`load_trusted_npy`.
"""
from __future__ import annotations

from typing import Any

from ..config.experiment import Experiment
from ..config.views import inference_split_name
from ..data import check as _check
from ..data import probe as _probe
from ..data import splits as _splits
from ..builtin import synth as _synth
from ..data.dataset import AnnotationSet, BadSample, ClipDataset, ClipRecord
from ..data.reader import VideoReader
from ..data.loader import close_loaders, collate, failures_explained
from ..data.image_scores import ImageScores, ImageScoresWriter
from ..data.video_keys import find_key, key_tails, unique_keys, video_key
from ..data.pickles import PICKLE_SUFFIXES, load_trusted_npy, load_trusted_pickle
from ..data.deferred import DeferredFrames
from ..data.pipeline import Pipeline, Step
from ..data.probe import PROBE, probe
from ..data.sample import VideoSample
from ..data.splits import extra_source_specs, num_classes_of
from ..data.score_fusion import top_predictions
from ..builtin.synth import MARKER as SYNTH_MARKER
from ..builtin.synth import SynthReport, check_seed, prepare_out, write_jpegs, write_mp4
from ..builtin.transforms import RandomResizedCrop, Resize, normalize_on_device
from ..plugin.host import current_host

__all__ = ["close_loaders", "failures_explained", "PICKLE_SUFFIXES", "PROBE", "SYNTH_MARKER", "AnnotationSet", "BadSample", "ClipDataset", "ClipRecord", "DeferredFrames", "ImageScores", "ImageScoresWriter",
           "Pipeline", "Step", "SynthReport", "VideoReader", "VideoSample", "build_decoder", "build_split",
           "check_seed", "check_splits", "collate", "example_batch", "load_trusted_npy", "load_trusted_pickle", "normalize_on_device",
           "num_classes_of", "extra_source_specs", "prepare_out", "probe", "split_pipeline", "synthesize", "video_key", "find_key", "inference_split_name", "key_tails",
           "unique_keys", "write_jpegs",
           "write_mp4", "RandomResizedCrop", "Resize",
           "top_predictions"]


def split_pipeline(experiment: Experiment, split: str) -> Pipeline:
    """The built pipeline of ``data.<split>``."""
    return _probe.split_pipeline(experiment, split, current_host().registry)


def example_batch(experiment: Experiment, *, split: str | None = None, batch_size: int = 1) -> dict[str, Any]:
    """A collated batch shaped like the real ones of ``data.<split>``, made from blank frames (a
    probe: no annotation or video file is read). ``split`` defaults to the one inference runs on:
    test, else val, else train. For shapes (``info``, ``export``), not for values."""
    from ..engine.profile import example_batch as _example_batch, inference_split

    return _example_batch(experiment, current_host().registry, split=split or inference_split(experiment),
                          batch_size=batch_size)


def build_decoder(experiment: Experiment, default: str) -> Any:
    """The experiment's ``data.decoder``, or the decoder named ``default`` when it sets none."""
    return _splits.build_decoder(experiment, default, current_host().registry)


def build_split(experiment: Experiment, split: str) -> ClipDataset:
    """The dataset of ``data.<split>`` with its pipeline and the experiment's decoder."""
    return _splits.build_split(experiment, split, current_host().registry)


def check_splits(experiment: Experiment, **options: Any) -> Any:
    """What ``actioncore data check`` reports for the experiment's splits."""
    return _check.check_splits(experiment, current_host().registry, **options)


def synthesize(kind: str, out: Any, *, seed: int = 0, **options: Any) -> SynthReport:
    """Write the embedded data set ``kind`` to ``out`` (what ``actioncore data synth`` does).

    ``kind`` is looked up among the ``synth`` components of the process-wide host: in a test
    with ``actioncore_host``, the plugin that provides it must be among the registered modules.
    """
    return _synth.synthesize(kind, out, seed=seed, **options)
