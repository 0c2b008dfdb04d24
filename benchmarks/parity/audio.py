"""Check the audio recognizers against MMAction2 1.2.0: parameter counts, conversion, outputs.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers python benchmarks/parity/audio.py

For each config (``recognition_audio/audioonly/audioonly_r50_...`` with ResNetAudio-50,
``recognition_audio/resnet/tsn_r18_...`` with a 1-channel ResNet-18) it counts both full-size
models on the meta device, builds MMAction2's recognizer from its config, randomises its weights
and BatchNorm statistics, converts its state dict with ``actioncore convert``'s code path into our
model built from the example experiment, and compares class scores of a random spectrogram
batch ``[B, 1 clip, 1, 128, 80]`` in eval mode: MMAction2's ``RecognizerAudio`` (backbone, then
``TSNAudioHead``) against our recognizer's per-clip logits. Prints a JSON summary; exits 1 if a
count differs or logits differ by more than ``--atol``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (build_mmaction2, build_ours, convert_into, count, parity_arguments,  # noqa: E402
                            randomise, run_parity)

CONFIGS = {
    "audioonly_r50": ("recognition_audio/audioonly/audioonly_r50_8xb160-64x1x1-100e_kinetics400-audio-feature.py",
                      "audioonly_r50_64x1x1_100e_kinetics400_audio_feature.toml"),
    "tsn_r18_audio": ("recognition_audio/resnet/tsn_r18_8xb320-64x1x1-100e_kinetics400-audio-feature.py",
                      "tsn_r18_64x1x1_100e_kinetics400_audio_feature.toml"),
}


def check(name: str, *, seed: int, batch: int = 2) -> dict:
    config, example = CONFIGS[name]
    with torch.device("meta"):
        result = {"mmaction2_parameters": count(build_mmaction2(config, initialise=False)),
                  "actioncore_parameters": count(build_ours(example))}
    theirs, ours = build_mmaction2(config), build_ours(example)
    randomise(theirs, seed)
    result["converted_tensors"] = convert_into(ours, theirs)
    theirs.eval()
    ours.eval()
    x = torch.rand(batch, 1, 1, 128, 80)  # spectrogram features lie in [0, 1]
    with torch.no_grad():
        their_logits = theirs.cls_head(theirs.backbone(x.flatten(0, 1)))
        our_logits = ours.head(ours.features(x.flatten(0, 1)), num_segs=1)
        our_probs = ours(x)
    result |= {
        "logits_max_abs_diff": (their_logits - our_logits).abs().max().item(),
        "prob_max_abs_diff": (their_logits.softmax(-1) - our_probs).abs().max().item(),
        "logit_scale": their_logits.abs().max().item(),
    }
    return result


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], CONFIGS)
    args = parser.parse_args()
    return run_parity(CONFIGS, args, lambda name: check(name, seed=args.seed))


if __name__ == "__main__":
    sys.exit(main())
