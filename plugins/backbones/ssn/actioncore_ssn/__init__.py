"""SSN (Zhao et al., ICCV 2017) as MMAction2 0.24 has it: TAG proposal files, proposal sampling,
the structured temporal pyramid, completeness / regression heads and labelled detections for the
``localization`` task."""
from .assign import Assigner, PerVideo
from .dataset import SSNProposalDataset
from .head import SSNHead
from .loss import classwise_regression_loss, completeness_loss, ohem_hinge_loss, ssn_loss
from .postprocess import perform_regression, temporal_nms, top_detections
from .proposal_file import Instance, VideoProposals, format_proposal_file, read_proposal_file
from .sampler import SampleProposalFrames
from .ssn import SSN
from .stpp import stpp_test, stpp_train
from .targets import SSNTestInfo, SSNTrainTarget, SSNVideo

__all__ = [
    "Assigner", "Instance", "PerVideo", "SSN", "SSNHead", "SSNProposalDataset", "SSNTestInfo", "SSNTrainTarget",
    "SSNVideo", "SampleProposalFrames", "VideoProposals", "classwise_regression_loss", "completeness_loss",
    "format_proposal_file", "ohem_hinge_loss", "perform_regression", "read_proposal_file", "ssn_loss",
    "stpp_test", "stpp_train", "temporal_nms", "top_detections",
]
