"""TPN for actioncore: MMAction2 1.2.0's temporal pyramid neck (with its auxiliary head and loss)
and its head, for TSM-R50 and SlowOnly-R50; module names are MMAction2's so checkpoints convert."""
from .head import TPNHead
from .tpn import (TPN, AuxHead, AuxHeadCfg, DownSample, DownsampleCfg, LevelFusion, LevelFusionCfg,
                  SpatialModulation, SpatialModulationCfg, TemporalModulation, TemporalModulationCfg, UpsampleCfg)

__all__ = ["AuxHead", "AuxHeadCfg", "DownSample", "DownsampleCfg", "LevelFusion", "LevelFusionCfg",
           "SpatialModulation", "SpatialModulationCfg", "TPN", "TPNHead", "TemporalModulation",
           "TemporalModulationCfg", "UpsampleCfg"]
