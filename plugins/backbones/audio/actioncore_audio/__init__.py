"""Audio recognition for actioncore, as MMAction2 has it: spectrogram-feature lists and pipeline steps
(``audio_feature_list``, the ``audio_feature`` decoder, ``audio_feature_selector``,
``format_audio_shape``) and the ResNetAudio backbone (AVSlowFast's AudioOnly pathway).

The spectrograms come from ``actioncore data audio-features`` (the kernel's
``actioncore.data.prep.audio``); MMAction2's ``tsn_r18`` audio recipe needs nothing of this
plugin's model side (it is actioncore-tsn's ResNet-18 with one input channel).
"""
from .features import AudioFeatureDecoder, AudioFeatureList, AudioFeatureReader, AudioFeatureSelector, FormatAudioShape
from .resnet_audio import Bottleneck2dAudio, ConvAudio, ResNetAudio

__all__ = ["AudioFeatureDecoder", "AudioFeatureList", "AudioFeatureReader", "AudioFeatureSelector",
           "Bottleneck2dAudio", "ConvAudio", "FormatAudioShape", "ResNetAudio"]
