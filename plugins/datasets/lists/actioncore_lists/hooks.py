from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .lists import CmrList, ImageList, RawframeList, UnlabeledVideoList, VideoList


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"video_list": VideoList, "rawframe_list": RawframeList, "cmr_list": CmrList,
            "unlabeled_video_list": UnlabeledVideoList, "image_list": ImageList}
