"""The `training` section as Keras objects (archbuilder.model.compile): one optimizer table, outputs by name."""

import keras

from archbuilder.format.schema.vocabulary import LR_SCHEDULES
from archbuilder.format.schema.vocabulary import OPTIMIZERS
from archbuilder.model.compile import compile_config
from archbuilder.spec.load import load_spec


def test_the_vocabulary_tables_name_keras_classes():
    for kind, (class_name, _) in OPTIMIZERS.items():
        assert issubclass(getattr(keras.optimizers, class_name), keras.optimizers.Optimizer), kind
    for kind, class_name in LR_SCHEDULES.items():
        if class_name is not None:
            assert issubclass(getattr(keras.optimizers.schedules, class_name),
                              keras.optimizers.schedules.LearningRateSchedule), kind


def test_one_output_or_outputs_by_name():
    ae = {"spec_version": 1, "name": "a", "family": "autoencoder", "input": {"shape": [8]},
          "encoder": [{"units": 4}], "bottleneck": {"units": 2}}
    assert compile_config(load_spec(ae).concrete()) == {"loss": "mse", "metrics": ["mae"]}
    config = compile_config(load_spec({**ae, "head": {"units": 3, "loss_weight": 0.5}}).concrete())
    assert config == {"loss": {"reconstruction": "mse", "head": "sparse_categorical_crossentropy"},
                      "loss_weights": {"reconstruction": 1.0, "head": 0.5}, "metrics": {"head": ["accuracy"]}}


def test_a_partial_optimizer_gets_the_default_type_and_learning_rate():
    from archbuilder.model.compile import build_optimizer

    for given, kind, rate in [({"type": "sgd"}, "SGD", 0.001), ({"learning_rate": 0.01}, "Adam", 0.01),
                              ({"beta_1": 0.8}, "Adam", 0.001)]:
        spec = load_spec({"spec_version": 1, "name": "t", "family": "cnn", "input": {"shape": [10, 4, 2]},
                          "output": {"units": 3}, "training": {"optimizer": given}})
        optimizer = build_optimizer(spec.concrete()["training"])
        assert type(optimizer).__name__ == kind, given
        assert abs(float(optimizer.learning_rate) - rate) < 1e-9, given
        if "beta_1" in given:
            assert optimizer.beta_1 == 0.8
