"""Weights: reading files (``files``), MMAction2's naming (``mmaction2``) and the pretrained-weights
service that runs after a model is built (``pretrained``). Plugins use them through
:mod:`actioncore.sdk.weights`."""
