"""The full-size PoseC3D examples of examples/skeleton/: `actioncore info` reports MMAction2's counts."""
import json
from pathlib import Path

import pytest

from actioncore.cli import main

pytestmark = pytest.mark.actioncore_plugins("actioncore_posec3d.hooks", "actioncore_resnet3d.hooks",
                                          "actioncore_cls_heads.hooks", "actioncore_pose.hooks", "actioncore_skeleton.hooks",
                                          "actioncore_recognition.hooks")

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_posec3d" / "examples"

# MMAction2 1.2.0's recognizers for configs/skeleton/posec3d/slowonly_r50_8xb16-u48-240e_{gym,ntu60-xsub}-keypoint.py
FULL_SIZE = {
    "posec3d_slowonly_r50_u48_240e_gym_keypoint.toml": 2_044_867,
    "posec3d_slowonly_r50_u48_240e_ntu60_xsub_keypoint.toml": 2_024_860,
}


@pytest.mark.parametrize("name", FULL_SIZE)
def test_example_info_reports_mmaction2s_parameter_count(actioncore_host, capsys, name):
    assert main(["info", str(EXAMPLES / name), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["parameters"] == FULL_SIZE[name]
    assert info["input_shape"] == [1, 1, 17, 48, 56, 56]  # [N, clips, K, T, H, W]
