"""The recognition task's ``actioncore demo`` and ``actioncore explain`` inputs.

Every clip is prepared by the experiment's own test pipeline (its sampler in test mode, resizes,
crops, normalisation) and scored as ``actioncore infer`` scores it. Without ``--long`` a video file
gets one prediction (the test sampling over the whole file, or its first ``--max-seconds``) and
every frame shows it; with ``--long``, or for a live source (which has no whole), the frames go
through a sliding window (:func:`actioncore.sdk.vis.slide`): each window is sampled by the test
pipeline as if it were a video, its top-k labels are drawn on the frames it is current for, and
the windows become the timeline ``OUT.json``.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from actioncore.sdk import ConfigError, DataError
from actioncore.sdk.data import build_decoder, collate
from actioncore.sdk.vis import (DemoRequest, ExplainExample, FirstFramesDecoder, FramesDecoder, labelled_frame,
                                open_frames, prediction_lines, slide, video_writer)

if TYPE_CHECKING:
    from .task import RecognitionAdapter


def _class_names(adapter: RecognitionAdapter, request: DemoRequest | None = None) -> list[str] | None:
    if request is not None and request.class_names:
        return request.class_names
    try:
        return adapter.class_names
    except DataError:  # the class list of the training machine may not be here: show numbers
        return None


def run_demo(adapter: RecognitionAdapter, model: nn.Module, request: DemoRequest) -> dict[str, Any]:
    from .task import clip_dataset, scored_predictions

    experiment = adapter.experiment
    names = _class_names(adapter, request)

    def predict(decoder: Any, source: str) -> list[dict[str, Any]]:
        return scored_predictions(model, clip_dataset(experiment, [source], decoder)[0],
                                  multi_label=adapter.task.multi_label, topk=request.topk, names=names)

    with open_frames(request.source, input_format=request.input_format, max_seconds=request.max_seconds) as stream:
        report: dict[str, Any] = {"input": request.source, "out": str(request.out), "fps": stream.fps}
        with video_writer(request.out, fps=stream.fps) as writer:
            if request.long or stream.live:
                def score(frames: np.ndarray) -> list[dict[str, Any]]:
                    return predict(FramesDecoder(frames, fps=stream.fps, path=request.source), request.source)

                def emit(frame: np.ndarray, predictions: list[dict[str, Any]]) -> None:
                    writer.write(labelled_frame(frame, prediction_lines(predictions)))

                timeline = slide(stream.frames(), fps=stream.fps, window=request.window, stride=request.stride,
                                 score=score, emit=emit)
                report.update(timeline=str(request.timeline_path), windows=len(timeline))
            else:
                decoder = build_decoder(experiment, "auto")
                if stream.max_frames is not None:
                    decoder = FirstFramesDecoder(decoder, stream.max_frames)
                predictions = predict(decoder, request.source)
                lines = prediction_lines(predictions)
                for frame in stream.frames():
                    writer.write(labelled_frame(frame, lines))
                report["predictions"] = predictions
    if "timeline" in report:
        document = {"input": request.source, "fps": stream.fps, "window": request.window, "stride": request.stride,
                    "windows": timeline}
        request.timeline_path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return {**report, "frames": writer.count, "size": list(writer.size), "codec": writer.codec}


def default_layer(model: nn.Module) -> str:
    """The backbone's last stage (``backbone.layer4`` of a ResNet: the output MMAction2's
    ``backbone/layer4/1/relu`` records), or the whole backbone where it has no ``layerN`` stages."""
    backbone = getattr(model, "backbone", None)
    if backbone is None:
        raise ConfigError("Grad-CAM: the model has no backbone; name a layer with --layer")
    stages = [name for name, _ in backbone.named_children() if name.startswith("layer") and name[5:].isdigit()]
    return f"backbone.{max(stages, key=lambda n: int(n[5:]))}" if stages else "backbone"


def explain_example(adapter: RecognitionAdapter, model: nn.Module, video: str) -> ExplainExample:
    from .task import LAYOUTS, clip_dataset, prepare_inputs

    decoder = build_decoder(adapter.experiment, "auto")
    batch = collate([clip_dataset(adapter.experiment, [video], decoder)[0]])
    layout = batch.get("input_format")
    if layout not in ("NCHW", "NCTHW") or batch["inputs"].dtype != torch.uint8:
        raise ConfigError(f"Grad-CAM draws on video frames: the test pipeline gives {layout or 'no'} layout "
                          f"({LAYOUTS.get(layout, 'not frames')})")
    pixels = batch["inputs"][0]
    frames = pixels.permute(0, 2, 3, 1) if layout == "NCHW" else pixels[0].permute(1, 2, 3, 0)
    if frames.shape[-1] != 3:
        raise ConfigError(f"Grad-CAM draws on RGB frames; the input has {frames.shape[-1]} channels")
    return ExplainExample(module=model, inputs=prepare_inputs(batch, torch.device("cpu")),
                          frames=frames.contiguous().numpy(), layout=layout, layer=default_layer(model),
                          classes=_class_names(adapter))
