"""Pictures of what a model sees and says: drawing on frames, video in and out, demos, Grad-CAM.

:mod:`.draw` holds the Pillow drawing helpers every task's demo uses (labels, boxes, skeletons,
heat maps), :mod:`.video` reads inputs frame by frame with PyAV and writes mp4/gif, :mod:`.windows`
slides a scoring window over a stream, :mod:`.demo` and :mod:`.explain` are the ``actioncore demo``
and ``actioncore explain`` commands, asking the task's adapter what to run.
"""
