"""keras-tuner's oracles and tuners as archbuilder runs them (archbuilder.tuning.tuners)."""

import keras_tuner
import pytest

from archbuilder.errors import SpecError
from archbuilder.format.schema.vocabulary import TUNERS
from archbuilder.tuning.tuners import make_oracle
from archbuilder.tuning.tuners import trial_reason

SETTINGS = {"seed": 1, "max_consecutive_failed_trials": 3, "max_trials": 4, "max_epochs": 3, "factor": 3,
            "hyperband_iterations": 1}


@pytest.mark.parametrize("name", list(TUNERS))
def test_every_tuner_of_the_table_has_its_safe_oracle(name):
    oracle = make_oracle({**SETTINGS, "tuner": name}, keras_tuner.Objective("val_loss", "min"))
    assert type(oracle).__name__ == f"{TUNERS[name]}Oracle"
    assert isinstance(oracle, getattr(keras_tuner.oracles, f"{TUNERS[name]}Oracle"))
    assert hasattr(oracle, "failure_limit")


def test_a_failed_trial_is_one_line_starting_with_the_spec_path():
    assert trial_reason(SpecError("$.conv[1].pool", "pooling 2 would shrink the 1x1 feature map to 0x0")) == (
        "$.conv[1].pool: pooling 2 would shrink the 1x1 feature map to 0x0")
    assert trial_reason(MemoryError("no memory")).startswith("$.training.batch_size: out of memory")
    assert trial_reason(ValueError("bad\nthing")) == "$: ValueError: bad thing"
