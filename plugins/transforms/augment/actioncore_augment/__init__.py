"""Strong video augmentation and person boxes: RandAugment, temporal ops, scene cutout, person
masks, and the batch-level ActorCutMix, mixup and cutmix (video-data-aug, MMAction2)."""
from .boxes import PersonBoxes, read_person_boxes, write_person_boxes
from .mixing import actor_cutmix, cutmix, mask_like, mixup, partner_index
from .person import PersonBoxesStep, PersonMask, SceneCutout
from .rand_augment import FILL_COLOR, OPS, RandAugment
from .temporal import TemporalAugment

__all__ = ["FILL_COLOR", "OPS", "PersonBoxes", "PersonBoxesStep", "PersonMask", "RandAugment", "SceneCutout",
           "TemporalAugment", "actor_cutmix", "cutmix", "mask_like", "mixup", "partner_index", "read_person_boxes",
           "write_person_boxes"]
