"""Shipping a trained model: ``actioncore export`` (ONNX, TorchScript) and ``actioncore publish``.

The kernel runs the exporters and checks their files; what is exported (the module and the shape
of its input) is the task's word, through its adapter's ``export_example`` (:class:`ExportExample`).
"""
