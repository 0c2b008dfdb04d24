from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory


@actioncore.hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    from .erasing import RandomErasing
    from .mixing import ActorCutMixStep, CutmixStep, MixupStep
    from .person import PersonBoxesStep, PersonMask, SceneCutout
    from .rand_augment import RandAugment
    from .temporal import TemporalAugment

    return {
        "rand_augment": RandAugment,
        "temporal_augment": TemporalAugment,
        "scene_cutout": SceneCutout,
        "person_boxes": PersonBoxesStep,
        "person_mask": PersonMask,
        "actor_cutmix": ActorCutMixStep,
        "mixup": MixupStep,
        "cutmix": CutmixStep,
        "random_erasing": RandomErasing,
    }


@actioncore.hookimpl
def actioncore_converters() -> Mapping[str, Factory]:
    from .convert import convert_person_boxes

    return {"person_boxes": convert_person_boxes}
