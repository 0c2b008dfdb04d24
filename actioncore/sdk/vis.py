"""Drawing and video helpers for a task's ``demo`` and ``explain_example`` (``actioncore demo``,
``actioncore explain``).

A task adapter's ``demo(model, request: DemoRequest)`` reads its input (:func:`open_frames`:
PyAV, frame by frame, files and live streams), draws with the shared Pillow helpers
(:func:`draw_label_panel`, :func:`draw_boxes`, :func:`draw_skeleton`, :func:`labelled_frame`),
writes with :func:`video_writer` (mp4 via PyAV, gif via Pillow) and, for long inputs, slides
a window with :func:`slide`. Its ``explain_example(model, video)`` returns an
:class:`ExplainExample` for Grad-CAM. :class:`FramesDecoder` / :class:`FirstFramesDecoder` let a
dataset's pipeline run on frames in memory or on the first frames of a file.
"""
from ..data.memory import ArrayReader, FirstFramesDecoder, FramesDecoder
from ..vis.demo import DemoRequest
from ..vis.draw import (PALETTE, blend_heatmap, colormap, draw_boxes, draw_label_panel, draw_skeleton, font,
                        labelled_frame, prediction_lines, text_size)
from ..vis.explain import ExplainExample, grad_cam
from ..vis.video import FrameStream, VideoWriter, open_frames, video_writer
from ..vis.windows import slide

__all__ = ["PALETTE", "ArrayReader", "DemoRequest", "ExplainExample", "FirstFramesDecoder", "FrameStream",
           "FramesDecoder", "VideoWriter", "blend_heatmap", "colormap", "draw_boxes", "draw_label_panel",
           "draw_skeleton", "font", "grad_cam", "labelled_frame", "open_frames", "prediction_lines", "slide",
           "text_size", "video_writer"]
