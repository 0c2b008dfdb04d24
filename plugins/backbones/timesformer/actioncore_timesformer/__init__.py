"""TimeSformer (Bertasius, Wang and Torresani, "Is Space-Time Attention All You Need for Video
Understanding?", ICML 2021) as MMAction2 1.2.0 builds it: the backbone; its linear head,
``timesformer``, is actioncore-cls-heads' :class:`~actioncore_cls_heads.TimeSformerHead`.

Parameter names match MMAction2's, so its checkpoints convert with ``actioncore convert
mmaction2`` (only ``cls_head.`` becomes ``head.``).
"""
from .timesformer import TimeSformer

__all__ = ["TimeSformer"]
