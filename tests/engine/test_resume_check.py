"""What --resume counts as a changed experiment."""
from actioncore.config import dump_experiment
from actioncore.config.experiment import Experiment
from actioncore.engine.resume_check import experiment_changes

STORED = """
[schedule]
epochs = 3
policy = "cosine"

[runtime]
work_dir = "a"
"""


def test_an_option_a_newer_version_added_at_its_default_is_no_change():
    defaults = dump_experiment(Experiment())
    # a checkpoint of an older version: no cosine_after_warmup / num_repeats keys at all
    current = STORED.replace('work_dir = "a"', 'work_dir = "b"') + "\n[data]\nnum_repeats = 1\n"
    current = current.replace('policy = "cosine"', 'policy = "cosine"\ncosine_after_warmup = false')
    assert experiment_changes(STORED, current, defaults) == []
    # the same keys at other values are changes, and so is everything without the defaults
    changed = current.replace("cosine_after_warmup = false", "cosine_after_warmup = true")
    assert experiment_changes(STORED, changed, defaults) == ["schedule.cosine_after_warmup: (unset) -> True"]
    assert experiment_changes(STORED, current) == ["data.num_repeats: (unset) -> 1",
                                                   "schedule.cosine_after_warmup: (unset) -> False"]
    # a key the current experiment dropped is still a change
    assert experiment_changes(current, STORED, defaults) == ["data.num_repeats: 1 -> (unset)",
                                                             "schedule.cosine_after_warmup: False -> (unset)"]
