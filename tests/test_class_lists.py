"""The shipped class lists: counts as the data sets define them, known names at known labels."""
from __future__ import annotations

import pytest

from actioncore.errors import ConfigError
from actioncore.sdk.weights import class_ids, class_lists, class_names

COUNTS = {"kinetics400": 400, "kinetics600": 600, "kinetics700": 700, "sthv2": 174, "ucf101": 101, "hmdb51": 51,
          "ava_v2.2": 80, "ava_v2.2_60": 60, "ntu60": 60, "ntu120": 120, "gym99": 99, "mit": 339, "diving48": 48}


@pytest.mark.parametrize("name,count", sorted(COUNTS.items()))
def test_counts_and_no_repeats(name, count):
    names = class_names(name)
    assert len(names) == count
    # FineGym's element names repeat across sets (beam acro set 33 and beam dismount set 35 both have "(BB) salto backward tucked")
    repeats = {"gym99": 1}.get(name, 0)
    assert len(set(names)) == count - repeats
    assert all(n == n.strip() and n for n in names)


def test_every_shipped_list_is_counted():
    assert sorted(class_lists()) == sorted(COUNTS)


@pytest.mark.parametrize("name,label,expected", [
    ("kinetics400", 0, "abseiling"), ("kinetics400", 399, "zumba"), ("kinetics400", 12, "balloon blowing"),
    ("kinetics600", 0, "abseiling"), ("kinetics600", 58, "bull fighting"), ("kinetics600", 599, "zumba"),
    ("kinetics700", 1, "acting in play"), ("kinetics700", 699, "zumba"),
    ("sthv2", 0, "Approaching something with your camera"), ("sthv2", 173, "Wiping something off of something"),
    ("ucf101", 0, "ApplyEyeMakeup"), ("ucf101", 34, "HammerThrow"), ("ucf101", 100, "YoYo"),
    ("hmdb51", 0, "brush_hair"), ("hmdb51", 50, "wave"),
    ("ntu60", 0, "drink water"), ("ntu60", 59, "walking apart from each other"),
    ("ntu120", 119, "finger-guessing game (playing rock-paper-scissors)."),
    ("gym99", 0, "(VT) round-off, flic-flac with 0.5 turn on, stretched salto forward with 0.5 turn off"),
    ("gym99", 98, "(UB) (swing forward) double salto backward stretched"),
    ("mit", 0, "clapping"), ("mit", 338, "typing"),
    ("diving48", 0, "Back+15som+05Twis+FREE"), ("diving48", 47, "Reverse+Dive+NoTwis+TUCK"),
])
def test_known_names(name, label, expected):
    assert class_names(name)[label] == expected


def test_ava_keeps_its_ids():
    assert class_ids("ava_v2.2") == list(range(1, 81))
    ids = class_ids("ava_v2.2_60")
    assert ids[:4] == [1, 3, 4, 5] and ids[-1] == 80 and 2 not in ids
    full = dict(zip(class_ids("ava_v2.2"), class_names("ava_v2.2")))
    assert all(full[i] == n for i, n in zip(ids, class_names("ava_v2.2_60")))
    assert full[80] == "watch (a person)"
    assert class_ids("ucf101") == list(range(101))


def test_unknown_list_names_close_matches():
    with pytest.raises(ConfigError, match="kinetics400"):
        class_names("kinetic400")
