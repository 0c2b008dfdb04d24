"""``actioncore data image-scores``: per-frame class probabilities of a torchvision image classifier
for every video of a list, written as an image-score file (:mod:`actioncore.data.image_scores`).

These are the targets of video-data-aug's "kd" head (SEED003 §4: ImageNet probabilities of a
ResNet-18, per stored frame; the original ships the files without the script that made them).
The model is built by name with ``torchvision.models.get_model(name, weights=None)`` and its
weights come from a local file, read with ``torch.load(weights_only=True)``: nothing is
downloaded. A file may be a bare state dict (torchvision's ``resnet18-f37072fd.pth``) or
``{"state_dict": ..., "classes": [...]}``; class names come from ``--classes FILE``, ``--classes
imagenet`` (torchvision's names for the model's ImageNet weights), or the file's ``classes``.

Each frame goes through the model's own evaluation transforms, those of its default torchvision
weights (resnet18: resize the short side to 256, bilinear with antialiasing, center-crop 224,
ImageNet mean/std); ``size`` sets the crop and scales the resize along. Probabilities are the
softmax of the logits in float32, stored as float16. Videos are decoded by the kernel's decoders
(``pyav`` for video lists, ``frame_folder`` for raw-frame lists), in ``workers`` processes when
asked; the model runs in this one.
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
import torchvision
from torch import nn

from ..builtin.decoders import FrameFolderDecoder, PyAVDecoder
from ..errors import ConfigError, DataError
from ..progress import progress_bar
from ..weights.files import load_into, load_weights_file, weights_in
from .image_scores import ImageScoresWriter
from .video_keys import unique_keys
from .list_lines import AnnotationList

_READ_BYTES = 256 << 20
"""Decoded frames held at once per video (a read covers at least a batch)."""


@attrs.frozen
class Classifier:
    """A torchvision classifier in eval mode with its evaluation transforms and class names."""

    model: nn.Module
    transforms: Callable[[torch.Tensor], torch.Tensor]
    num_classes: int
    classes: tuple[str, ...] | None


def eval_transforms(name: str, *, size: int | None = None) -> Any:
    """The model's torchvision evaluation preset (``ImageClassification``), the crop set to ``size``
    and the resize scaled along (256/224 for ResNets) when given.

    Models without torchvision weights get the ImageNet preset of ResNet-18.
    """
    try:
        preset = torchvision.models.get_model_weights(name).DEFAULT.transforms
    except (ValueError, KeyError, AttributeError):
        preset = torchvision.models.ResNet18_Weights.DEFAULT.transforms
    base = preset()
    if size is None:
        return base
    if size < 1:
        raise ConfigError(f"--size must be a positive crop size, got {size}")
    return preset(crop_size=size, resize_size=max(size, round(base.resize_size[0] * size / base.crop_size[0])))


def build_model(name: str) -> nn.Module:
    """``torchvision.models.get_model(name, weights=None)``; an unknown name is a ConfigError naming --model."""
    known = torchvision.models.list_models(module=torchvision.models)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; e.g. {', '.join(known[:5])}, ..."
        raise ConfigError(f"--model {name!r} is not a torchvision classification model{hint}")
    return torchvision.models.get_model(name, weights=None)


def read_classes(spec: str | None, *, model_name: str, stored: Any, weights_file: str) -> tuple[str, ...] | None:
    """Class names: a file, one per line; ``imagenet``: torchvision's for the model; else those stored."""
    if spec == "imagenet":
        try:
            return tuple(torchvision.models.get_model_weights(model_name).DEFAULT.meta["categories"])
        except (ValueError, KeyError, AttributeError):
            raise ConfigError(f"--classes imagenet: torchvision has no ImageNet weights for {model_name!r} "
                              "to take class names from; give a file") from None
    if spec is not None:
        try:
            names = [line.strip() for line in Path(spec).read_text(encoding="utf-8").splitlines()]
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{spec}: cannot read the class names: {exc}", path=spec) from None
        while names and not names[-1]:
            names.pop()
        return tuple(names)
    if stored is None:
        return None
    if not (isinstance(stored, Sequence) and all(isinstance(c, str) for c in stored)):
        raise DataError(f"{weights_file}: 'classes' must be a list of names", path=weights_file)
    return tuple(stored)


def load_classifier(name: str, weights_file: str, *, size: int | None = None,
                    classes: str | None = None, device: torch.device = torch.device("cpu")) -> Classifier:
    """The model ``name`` with the weights of ``weights_file`` (strict), its transforms and classes."""
    model = build_model(name)
    raw = load_weights_file(weights_file)
    load_into(model, weights_in(raw, weights_file), weights_file)
    model.eval().to(device)
    transforms = eval_transforms(name, size=size)
    with torch.inference_mode():
        probe = torch.zeros(1, 3, transforms.crop_size[0], transforms.crop_size[0], device=device)
        num_classes = int(model(probe).shape[-1])
    stored = next((raw[k] for k in ("classes", "categories") if isinstance(raw, dict) and k in raw), None)
    names = read_classes(classes, model_name=name, stored=stored, weights_file=weights_file)
    if names is not None and len(names) != num_classes:
        where = classes if classes not in (None, "imagenet") else weights_file
        raise DataError(f"{where}: {len(names)} class names for a model with {num_classes} outputs", path=where)
    return Classifier(model, transforms, num_classes, names)


def list_videos(annotations: AnnotationList, root: str) -> list[tuple[str, str]]:
    """``(key, path)`` of each distinct video, in list order; keys are the shortest path tails
    that tell the videos apart (:func:`~actioncore.data.video_keys.unique_keys`)."""
    paths = list(dict.fromkeys(os.path.join(root, line.path) if root else line.path for line in annotations.lines))
    return list(zip(unique_keys(paths), paths))


class VideoFrames(torch.utils.data.IterableDataset):
    """Batches ``(key, frame_index, images, last)`` of every ``every``-th frame of each video,
    transformed; a video that fails yields ``(key, None, message, True)``. Workers share the
    videos round-robin, so chunks of one video come in order from one worker."""

    def __init__(self, videos: list[tuple[str, str]], *, decoder: Any, every: int, batch_size: int,
                 transforms: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.videos, self.decoder, self.every = videos, decoder, every
        self.batch_size, self.transforms = batch_size, transforms

    def __iter__(self) -> Iterator[tuple[str, np.ndarray | None, Any, bool]]:
        info = torch.utils.data.get_worker_info()
        mine = self.videos[info.id::info.num_workers] if info else self.videos
        for key, path in mine:
            try:
                yield from self._video(key, path)
            except DataError as exc:
                yield key, None, str(exc), True

    def _video(self, key: str, path: str) -> Iterator[tuple[str, np.ndarray, torch.Tensor, bool]]:
        with self.decoder.open(path) as reader:
            indices = np.arange(0, reader.num_frames, self.every, dtype=np.int64)
            per_read = max(self.batch_size, _READ_BYTES // max(reader.height * reader.width * 3, 1))
            for start in range(0, indices.size, per_read):
                images = self.transforms(reader.read(indices[start:start + per_read]).permute(0, 3, 1, 2))
                for b in range(0, images.shape[0], self.batch_size):
                    first = start + b
                    last = min(first + self.batch_size, indices.size)
                    yield key, indices[first:last], images[b:b + self.batch_size], last == indices.size


@attrs.frozen
class ScoreOptions:
    every: int = 1
    batch_size: int = 64
    workers: int = 0
    filename_tmpl: str = "img_{:05d}.jpg"
    start_index: int = 1
    progress: bool = True

    def frame_decoder(self) -> FrameFolderDecoder:
        """The decoder of RGB frame folders named by ``filename_tmpl`` from ``start_index`` on."""
        try:
            decoder = FrameFolderDecoder(filename_tmpl=self.filename_tmpl, start_index=self.start_index)
        except ValueError as exc:
            raise ConfigError(f"--filename-tmpl / --start-index: {exc}") from None
        if decoder.flow:
            raise ConfigError(f"--filename-tmpl {self.filename_tmpl!r} names optical-flow frames; an image "
                              "classifier scores RGB frames")
        return decoder

    def check(self) -> None:
        for option, value in (("--every", self.every), ("--batch-size", self.batch_size)):
            if value < 1:
                raise ConfigError(f"{option} must be >= 1, got {value}")
        if self.workers < 0:
            raise ConfigError(f"--workers must be >= 0, got {self.workers}")


def score_videos(annotations: AnnotationList, out: str | os.PathLike[str], classifier: Classifier, *,
                 root: str = "", options: ScoreOptions = ScoreOptions(),
                 device: torch.device = torch.device("cpu")) -> dict[str, Any]:
    """Score every distinct video of ``annotations`` and write ``out``; returns a report."""
    options.check()
    videos = list_videos(annotations, root)
    decoder = PyAVDecoder() if annotations.format == "video" else options.frame_decoder()
    frames = VideoFrames(videos, decoder=decoder, every=options.every, batch_size=options.batch_size,
                         transforms=classifier.transforms)
    loader = torch.utils.data.DataLoader(frames, batch_size=None, num_workers=options.workers)
    sources = dict(videos)
    pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    scored = 0
    with ImageScoresWriter(out, num_classes=classifier.num_classes, classes=classifier.classes) as writer, \
            progress_bar(total=len(videos), unit="video", desc="image scores", enabled=options.progress) as bar, \
            torch.inference_mode():
        for key, indices, images, last in loader:
            if indices is None:
                raise DataError(images, path=sources[key])
            logits = classifier.model(images.to(device, non_blocking=True))
            probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
            pending.setdefault(key, []).append((np.asarray(indices), probs))
            if last:
                parts = pending.pop(key)
                writer.add(key, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                           source=sources[key])
                scored += sum(p[0].size for p in parts)
                bar.update()
    crop = classifier.transforms.crop_size[0]
    return {"target": str(Path(out)), "videos": len(videos), "frames": scored, "classes": classifier.num_classes,
            "class_names": classifier.classes is not None, "every": options.every, "crop_size": crop,
            "resize_size": classifier.transforms.resize_size[0], "device": str(device)}
