"""torchvision's video classifiers (``r3d_18`` ... ``swin3d_b``) as actioncore backbones
(``tv_<arch>``, torchvision's architecture code without its classifier) and their weights as
zoo entries (``tv_<arch>_kinetics400_v1``, from torchvision's weights enums)."""
from .backbone import ARCHITECTURES, FEATURES, TorchvisionVideo

__all__ = ["ARCHITECTURES", "FEATURES", "TorchvisionVideo"]
