"""TimeSformer (Bertasius, Wang and Torresani, "Is Space-Time Attention All You Need for Video
Understanding?", ICML 2021) as MMAction2 1.2.0 builds it: the backbone and its linear head.

Parameter names match MMAction2's, so its checkpoints convert with ``actioncore convert
mmaction2`` (only ``cls_head.`` becomes ``head.``).
"""
from .head import TimeSformerHead
from .timesformer import TimeSformer

__all__ = ["TimeSformer", "TimeSformerHead"]
