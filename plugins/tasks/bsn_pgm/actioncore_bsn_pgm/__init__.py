"""BSN's proposal generation step (PGM) as a task, and the files that link BSN's three stages.

TEM's test pass writes one TEM result per video; the ``bsn_pgm`` task reads them, generates
candidate proposals and their BSP features, and writes them where PEM's ``bsn_proposals`` dataset
reads them (MMAction2's layout).
"""
from .files import (FEATURES_DIR, PROPOSALS_DIR, ProposalTable, TEMResult, read_bsp_features, read_proposals,
                    read_tem_result, write_bsp_features, write_proposals)
from .pgm import BSPSampling, Proposals, best_overlaps, boundary_locations, bsp_features, candidate_proposals
from .task import ProposalGenerationTask, video_proposals

__all__ = ["FEATURES_DIR", "PROPOSALS_DIR", "BSPSampling", "ProposalGenerationTask", "ProposalTable", "Proposals",
           "TEMResult", "best_overlaps", "boundary_locations", "bsp_features", "candidate_proposals",
           "read_bsp_features", "read_proposals", "read_tem_result", "video_proposals", "write_bsp_features",
           "write_proposals"]
