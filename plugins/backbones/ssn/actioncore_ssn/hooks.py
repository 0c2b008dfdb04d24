from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .dataset import SSNProposalDataset
from .sampler import SampleProposalFrames
from .ssn import SSN


@actioncore.hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    return {"ssn": SSN}


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"ssn_proposals": SSNProposalDataset}


@actioncore.hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    return {"sample_proposal_frames": SampleProposalFrames}
