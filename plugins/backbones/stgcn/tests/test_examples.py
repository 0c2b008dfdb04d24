"""The full-size GCN examples of examples/skeleton/: `actioncore info` reports MMAction2's counts."""
import json
from pathlib import Path

import pytest

from actioncore.cli import main

pytestmark = pytest.mark.actioncore_plugins("actioncore_stgcn.hooks", "actioncore_cls_heads.hooks",
                                          "actioncore_pose.hooks", "actioncore_skeleton.hooks",
                                          "actioncore_recognition.hooks")

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_stgcn" / "examples"

# MMAction2 1.2.0's recognizers for the matching configs (see benchmarks/parity/skeleton.py)
FULL_SIZE = {
    "stgcn_80e_ntu60_xsub_keypoint.toml": (3_088_704, [1, 1, 2, 100, 17, 3]),
    "stgcn_80e_ntu60_xsub_keypoint_3d.toml": (3_098_832, [1, 1, 2, 100, 25, 3]),
    "aagcn_80e_ntu60_xsub_keypoint.toml": (3_760_228, [1, 1, 2, 100, 17, 3]),
    "2s-agcn_80e_ntu60_xsub_keypoint_joint.toml": (3_459_344, [1, 1, 2, 100, 17, 3]),
    "2s-agcn_80e_ntu60_xsub_keypoint_bone.toml": (3_459_344, [1, 1, 2, 100, 17, 3]),
}


@pytest.mark.parametrize("name", FULL_SIZE)
def test_example_info_reports_mmaction2s_parameter_count(actioncore_host, capsys, name):
    assert main(["info", str(EXAMPLES / name), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    parameters, input_shape = FULL_SIZE[name]
    assert info["parameters"] == parameters
    assert info["input_shape"] == input_shape  # [N, clips, M, T, V, C]
