"""The kernel's own components, registered like any plugin's under the distribution ``actioncore``.

``hooks`` is the hook module; the components are the default model composition (``models``), the
frame samplers, ``decode`` and the pixel transforms of a pipeline (``samplers``, ``decode``,
``transforms``), the video decoders (``decoders``), the JSON and TensorBoard loggers
(``loggers``) and the embedded recognition data set (``synth``). The data contracts they
implement (sample, dataset, pipeline, reader) are in :mod:`actioncore.data`.
"""
