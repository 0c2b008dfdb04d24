from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory
from actioncore.sdk.weights import WeightsEntry, weights_from_package

from .pem import PEM
from .proposal_data import LoadBSNProposals, ProposalDataset, ProposalDecoder
from .tem import TEM


@actioncore.hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    return {"bsn_tem": TEM, "bsn_pem": PEM}


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"bsn_proposals": ProposalDataset}


@actioncore.hookimpl
def actioncore_decoders() -> Mapping[str, Factory]:
    return {"bsn_proposals": ProposalDecoder}


@actioncore.hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    return {"load_bsn_proposals": LoadBSNProposals}


@actioncore.hookimpl
def actioncore_weights() -> Mapping[str, WeightsEntry]:
    """MMAction2's checkpoints of this plugin's models (weights.toml, from dev/zoo_from_mmaction2.py)."""
    return weights_from_package(__package__)
