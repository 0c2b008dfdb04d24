"""BSN (Boundary Sensitive Network) for actioncore: the TEM and PEM models and PEM's proposal data,
as MMAction2 1.2.0 builds them; the PGM step between them is the task plugin actioncore-bsn-pgm."""
from .losses import proposal_iou_loss
from .pem import PEM
from .proposal_data import LoadBSNProposals, ProposalAnnotation, ProposalDataset, ProposalDecoder
from .tem import TEM

__all__ = ["LoadBSNProposals", "PEM", "ProposalAnnotation", "ProposalDataset", "ProposalDecoder", "TEM",
           "proposal_iou_loss"]
