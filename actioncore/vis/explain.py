"""``actioncore explain``: Grad-CAM heat maps of a recognizer over the frames it saw, as a GIF.

Grad-CAM (Selvaraju et al., ICCV 2017) as MMAction2's ``GradCAM`` (mmaction/utils/gradcam_utils.py)
computes it: the target class score (the recognizer's averaged *scores*, ``average_clips =
"score"``, not probabilities; default target its top class) is back-propagated to the
activations of one layer; the gradients, averaged over each time step's spatial positions, weigh
the channels; the ReLU of the weighted channel sum is upsampled (trilinear, ``align_corners =
False``) to the input's frames and size and scaled to [0, 1] by its min and max. 2D recognizers
(TSN, TSM: ``[N, segments, C, H, W]`` in, ``[N * segments, C', h, w]`` at the layer) get one map
per segment; 3D ones (``[N, views, C, T, H, W]`` in, ``[N * views, C', t, h, w]`` at the layer)
one per time step of the layer, upsampled in time too. As in MMAction2, channel weights are
pooled per time step (over space), not over space-time.

The task's adapter says what to feed and show (``explain_example(model, video)``): the input of
the test pipeline, its frames before normalisation, the layout and the default layer (the last
stage of the backbone; MMAction2's demo uses ``backbone/layer4/1/relu``, the same output). Where
that layer's output is no feature map (a backbone that pools itself), the last feature map made
inside it is explained (:func:`spatial_layer`); ``--layer`` picks any module.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..api import _adapter_with_weights
from ..config.experiment import Experiment
from ..errors import ConfigError
from .draw import blend_heatmap, labelled_frame
from .video import video_writer

LAYOUTS = ("NCHW", "NCTHW")
DELTA = 1e-20
"""MMAction2's guard against a constant map in the min-max scaling."""


@attrs.frozen(kw_only=True)
class ExplainExample:
    """One input of a recognizer with the frames it shows.

    ``inputs``: the normalised batch of one sample as the model takes it (``layout`` "NCHW":
    ``[1, segments, C, H, W]``; "NCTHW": ``[1, views, C, T, H, W]``). ``frames``: uint8
    ``[T, H, W, 3]``, the pixels of the segments (2D) or of the first view's frames (3D), as the
    pipeline made them. ``layer``: the default layer's module name.
    """

    module: nn.Module
    inputs: torch.Tensor
    frames: np.ndarray
    layout: str
    layer: str
    classes: list[str] | None = None

    def __attrs_post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ConfigError(f"Grad-CAM needs video frames in ({' or '.join(LAYOUTS)}), got layout {self.layout!r}")


def find_layer(module: nn.Module, name: str) -> nn.Module:
    """The submodule ``name`` (dots or MMAction2's slashes: ``backbone/layer4/1/relu``)."""
    dotted = name.replace("/", ".")
    modules = dict(module.named_modules())
    if dotted not in modules:
        stages = [n for n in modules if n.count(".") <= 1 and n]
        raise ConfigError(f"--layer {name}: the model has no such module (some it has: {', '.join(stages[:20])})")
    return modules[dotted]


def spatial_layer(module: nn.Module, inputs: torch.Tensor, name: str, layout: str) -> str:
    """``name`` where its output is a feature map (``[N, C, H, W]`` for NCHW, ``[N, C, T, H, W]``
    for NCTHW, larger than 1 x 1); else the last of its submodules to make one in a forward pass:
    a backbone that pools its last stage itself (torchvision's video ResNets) is explained at
    the stage's last output, as MMAction2's demo takes ``layer4/1/relu``."""
    rank = 4 if layout == "NCHW" else 5
    made: list[tuple[str, bool]] = []

    def record(sub: str):
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            made.append((sub, isinstance(output, torch.Tensor) and output.dim() == rank
                         and output.shape[-1] > 1 and output.shape[-2] > 1))
        return hook

    handles = [m.register_forward_hook(record(sub)) for sub, m in find_layer(module, name).named_modules()]
    try:
        with torch.no_grad():
            module(inputs)
    finally:
        for handle in handles:
            handle.remove()
    maps = [sub for sub, is_map in made if is_map]
    if not maps or dict(made).get("") is True:
        return name  # a map already, or none to fall back to (grad_cam says what it got)
    return f"{name}.{maps[-1]}"


@contextlib.contextmanager
def _recorded(layer: nn.Module) -> Iterator[dict[str, torch.Tensor]]:
    """The layer's last output and the gradient reaching it (a module called twice, such as a
    ResNet block's shared ReLU, keeps its last call, as MMAction2's hooks do)."""
    seen: dict[str, torch.Tensor] = {}

    def forward_hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
        if not isinstance(output, torch.Tensor):
            raise ConfigError(f"Grad-CAM needs a layer that returns one tensor, got {type(output).__name__}")
        seen["activations"] = output.detach()
        output.register_hook(lambda grad: seen.__setitem__("gradients", grad.detach()))

    handle = layer.register_forward_hook(forward_hook)
    try:
        yield seen
    finally:
        handle.remove()


@contextlib.contextmanager
def _score_averaging(module: nn.Module) -> Iterator[None]:
    """Views averaged as scores, not probabilities, for the backward pass (MMAction2 sets the
    head's ``average_clips = 'score'``)."""
    before = getattr(module, "average_clips", None)
    if before is not None:
        module.average_clips = "score"
    try:
        yield
    finally:
        if before is not None:
            module.average_clips = before


def grad_cam(module: nn.Module, inputs: torch.Tensor, *, layer: nn.Module, layout: str,
             target: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM maps ``[B, T, H, W]`` in [0, 1] (B = batch x views for 3D) and the class scores.

    ``target`` None takes each sample's top class.
    """
    if layout not in LAYOUTS:
        raise ConfigError(f"Grad-CAM: layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    inputs = inputs.detach().requires_grad_(True)  # gradients flow even where the first layers are frozen
    with _recorded(layer) as seen, _score_averaging(module), torch.enable_grad():
        scores = module(inputs)
        if target is not None and not 0 <= target < scores.shape[1]:
            raise ConfigError(f"--target-class {target}: the model has {scores.shape[1]} classes")
        chosen = scores.argmax(dim=1, keepdim=True) if target is None else torch.full((len(scores), 1), target)
        module.zero_grad()
        scores.gather(1, chosen).sum().backward()
    if "gradients" not in seen:
        raise ConfigError("Grad-CAM: the chosen layer does not take part in the class score")
    gradients, activations = seen["gradients"], seen["activations"]
    if layout == "NCHW":
        b, t, _, h, w = inputs.shape
        if gradients.dim() != 4:
            raise ConfigError(f"Grad-CAM of a 2D recognizer needs a layer with [N, C, H, W] outputs, got {list(gradients.shape)}")
        c = gradients.shape[1]
        tg = gradients.shape[0] // b
    else:
        b1, b2, _, t, h, w = inputs.shape
        b = b1 * b2
        if gradients.dim() != 5:
            raise ConfigError(f"Grad-CAM of a 3D recognizer needs a layer with [N, C, T, H, W] outputs, got {list(gradients.shape)}")
        c, tg = gradients.shape[1], gradients.shape[2]
        gradients, activations = gradients.permute(0, 2, 1, 3, 4), activations.permute(0, 2, 1, 3, 4)
    weights = gradients.reshape(b, tg, c, -1).mean(dim=3).reshape(b, tg, c, 1, 1)
    maps = F.relu((weights * activations.reshape(b, tg, c, *activations.shape[-2:])).sum(dim=2, keepdim=True))
    maps = F.interpolate(maps.permute(0, 2, 1, 3, 4), size=(t, h, w), mode="trilinear", align_corners=False)
    flat = maps.reshape(b, -1)
    low, high = flat.min(dim=1, keepdim=True).values, flat.max(dim=1, keepdim=True).values
    maps = ((flat - low) / (high - low + DELTA)).reshape(b, t, h, w)
    return maps, scores.detach()


def target_index(target: str | None, classes: Sequence[str] | None) -> int | None:
    """``--target-class``: a class number, or a name from the class list."""
    if target is None:
        return None
    if target.lstrip("-").isdigit():
        return int(target)
    if classes and target in classes:
        return list(classes).index(target)
    hint = f"the class names are in the experiment's task.classes" if not classes else \
        f"no class is called {target!r}; some are: {', '.join(list(classes)[:10])}"
    raise ConfigError(f"--target-class {target}: give a class number or name ({hint})")


def explain_experiment(experiment: Experiment, checkpoint: str | Path, video: str, *, out: str | Path,
                       target: str | None = None, layer: str | None = None, alpha: float = 0.5) -> dict[str, Any]:
    """Grad-CAM of the experiment's recognizer on ``video`` blended over its frames, written to ``out``
    (.gif or .mp4, one frame per segment or time step); returns what was explained."""
    adapter, model = _adapter_with_weights(
        experiment, checkpoint, step="explain_example", no_model="the experiment has no [model] to explain",
        missing="cannot be explained: its adapter has no explain_example(model, video)")
    example = adapter.explain_example(model, video)
    chosen_layer = layer or spatial_layer(example.module, example.inputs, example.layer, example.layout)
    maps, scores = grad_cam(example.module, example.inputs, layer=find_layer(example.module, chosen_layer),
                            layout=example.layout, target=target_index(target, example.classes))
    cls = int(scores[0].argmax()) if target is None else target_index(target, example.classes)
    name = example.classes[cls] if example.classes and cls < len(example.classes) else str(cls)
    heat = maps[0].numpy()
    if heat.shape[0] != len(example.frames):
        raise ConfigError(f"Grad-CAM: {heat.shape[0]} maps for {len(example.frames)} frames")
    with video_writer(out, fps=max(1.0, len(example.frames) / 2)) as writer:  # a clip in about 2 s
        for frame, frame_heat in zip(example.frames, heat):
            writer.write(labelled_frame(blend_heatmap(frame, frame_heat, alpha=alpha),
                                        [f"{name} {float(scores[0, cls]):.2f}"]))
    return {"out": str(out), "frames": writer.count, "size": list(writer.size), "layer": chosen_layer,
            "target": cls, "target_name": name, "score": float(scores[0, cls]),
            "top": int(scores[0].argmax()), "codec": writer.codec}
