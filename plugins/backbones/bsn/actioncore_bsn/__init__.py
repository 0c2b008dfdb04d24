"""BSN (Boundary Sensitive Network) for actioncore: TEM, PGM and PEM, as MMAction2 1.2.0 builds them."""
from .files import ProposalTable, TEMResult, read_bsp_features, read_proposals, read_tem_result
from .losses import proposal_iou_loss
from .pem import PEM
from .pgm import BSPSampling, Proposals, best_overlaps, boundary_locations, bsp_features, candidate_proposals
from .pgm_task import ProposalGenerationTask, video_proposals
from .proposal_data import LoadBSNProposals, ProposalAnnotation, ProposalDataset, ProposalDecoder
from .tem import TEM

__all__ = ["BSPSampling", "LoadBSNProposals", "PEM", "ProposalAnnotation", "ProposalDataset", "ProposalDecoder",
           "ProposalGenerationTask", "ProposalTable", "Proposals", "TEM", "TEMResult", "best_overlaps",
           "boundary_locations", "bsp_features", "candidate_proposals", "proposal_iou_loss", "read_bsp_features",
           "read_proposals", "read_tem_result", "video_proposals"]
