"""The training engine: device and process setup, optimisation, checkpoints, loops, logging.

Task plugins drive it through :class:`~actioncore.engine.trainer.Trainer` with a
:class:`~actioncore.engine.trainer.TaskAdapter` that knows their model and batches.
"""
