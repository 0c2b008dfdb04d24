"""VideoMAE (Tong et al., NeurIPS 2022) and VideoMAE V2 (Wang et al., CVPR 2023) for actioncore:
MMAction2 1.2.0's ViT backbone (``videomae``; its head is actioncore-cls-heads' ``timesformer``)
with checkpoint conversion, and VideoMAE's masked autoencoder (``videomae_pretrainer``) that the
``masked_video_pretraining`` task of actioncore-masked-video trains on unlabeled videos.

Parameter names match MMAction2's, so its checkpoints convert with ``actioncore convert
mmaction2`` (only ``cls_head.`` becomes ``head.``).
"""
from .pretrainer import VideoMAEPretrainer
from .vit import Block, VisionTransformer, sinusoid_table

__all__ = ["Block", "VideoMAEPretrainer", "VisionTransformer", "sinusoid_table"]
