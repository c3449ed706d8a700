"""Tests of archbuilder.training: one short real run per family, resume, refusals, the fit path's rules."""

import csv
import json
import os

import keras
import numpy as np
import pytest

from archbuilder.run import callbacks as ab_callbacks
from archbuilder.data.load import Dataset
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import ArgumentError
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.spec.load import load_spec
from archbuilder.run.prepare import adapt_loss
from archbuilder.run.rundir import RunDir
from archbuilder.run.fit import build_for_training
from archbuilder.run.fit import class_weights
from archbuilder.run.train import run_training
from archbuilder.run.device import set_precision
from archbuilder.run.train_result import summary_line
from archbuilder.run.train import train

MNIST1D = {"dataset": "mnist1d", "max_samples": 300}
TRAINING = {"epochs": 1, "batch_size": 64}

CNN = {"spec_version": 1, "name": "tiny_cnn", "family": "cnn", "input": {"shape": [40, 1]},
       "conv": [{"filters": 4, "kernel_size": 3, "pool": 2}], "dense": [{"units": 8}], "output": {"units": 10},
       "training": TRAINING, "data": MNIST1D}
RNN = {"spec_version": 1, "name": "tiny_gru", "family": "rnn", "input": {"shape": [40, 1]},
       "rnn": {"cell": "gru", "units": 4}, "output": {"units": 10}, "training": TRAINING, "data": MNIST1D}
AE_HEAD = {"spec_version": 1, "name": "tiny_ae", "family": "autoencoder", "input": {"shape": [40]},
           "encoder": [{"units": 16}], "bottleneck": {"units": 4}, "output": {"activation": "linear"},
           "variant": "sparse", "sparsity": {"l1": 1e-5}, "head": {"units": 10, "activation": "softmax"},
           "training": {**TRAINING, "class_weight": "balanced"}, "data": MNIST1D}  # head weights: sample_weight
CUSTOM = {"spec_version": 1, "name": "tiny_mlp", "family": "custom", "input": {"shape": [40]},
          "layers": [{"type": "Dense", "units": 8, "activation": "relu", "name": "h1"},
                     {"type": "Dense", "units": 8, "activation": "relu", "name": "h2"},
                     {"type": "Add", "inputs": ["h1", "h2"]},
                     {"type": "Dense", "units": 10, "activation": "softmax"}],
          "training": TRAINING, "data": MNIST1D}

RUN_FILES = {"run.json", "spec.json", "spec.resolved.json", "model.keras", "preprocessing.json", "summary.txt",
             "history.csv", "metrics.json", "curves.png", "env.json", "logs", "DONE",
             "report.json", "confusion.csv", "confusion.png",  # the evaluation report of a classifier
             "checkpoint.keras", "state.json"}  # kept after DONE: a larger --epochs extends the run
METRIC_KEYS = {"test_loss", "params", "trainable_params", "train_seconds", "epochs_run"}


def with_(spec, **changes):
    spec = json.loads(json.dumps(spec))
    for path, value in changes.items():
        node = spec
        *keys, last = path.split("__")
        for key in keys:
            node = node[key]
        node[last] = value
    return spec


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def history_rows(run_dir):
    with open(os.path.join(run_dir, "history.csv"), encoding="utf-8") as f:
        return list(csv.DictReader(f))


def tiny_images(tmp_path, n=48, size=8):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, size, size, 1), dtype=np.uint8)
    y = np.arange(n) % 2
    path = tmp_path / "images.npz"
    np.savez(path, x=x, y=y)
    return str(path)


# ---------------------------------------------------------------- one real run per family


@pytest.mark.parametrize("spec, extra_files, metric", [
    (CNN, set(), "test_accuracy"),
    (RNN, set(), "test_accuracy"),
    (AE_HEAD, {"encoder.keras", "reconstructions.png"}, "test_head_accuracy"),
    (CUSTOM, set(), "test_accuracy"),
], ids=["cnn", "rnn", "autoencoder_head", "custom"])
def test_one_run_per_family(tmp_path, spec, extra_files, metric):
    out = str(tmp_path / "run")
    result = run_training(spec, out=out, quiet=True)
    assert result.run_dir == out
    assert set(os.listdir(out)) == RUN_FILES | extra_files
    metrics = read_json(os.path.join(out, "metrics.json"))
    assert METRIC_KEYS | {metric} <= set(metrics)
    assert 0.0 <= metrics[metric] <= 1.0 and metrics["epochs_run"] == 1
    model = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
    assert metrics["params"] == model.count_params() == load_spec(spec).plan.params
    assert read_json(os.path.join(out, "spec.json")) == spec
    resolved = read_json(os.path.join(out, "spec.resolved.json"))
    assert resolved["data"] == MNIST1D and "loss" in resolved["training"]
    with open(os.path.join(out, "summary.txt"), encoding="utf-8") as f:
        summary = f.read()
    assert f"Total params: {metrics['params']:,}" in summary
    assert ("$.layers[3]" if spec["family"] == "custom" else "$.output") in summary
    env = read_json(os.path.join(out, "env.json"))
    assert env["backend"] == keras.backend.backend() and env["precision"] == "float32" and env["seed"] == 42
    rows = history_rows(out)
    assert [r["epoch"] for r in rows] == ["1"] and "val_loss" in rows[0]
    assert 0 < float(rows[0]["epoch_seconds"]) <= metrics["train_seconds"]
    line = summary_line(result)
    assert line.startswith(f"{spec['name']}: {metric} ") and line.endswith(f"1 epochs in "
                                                                             f"{metrics['train_seconds']:.1f} s -> {out}")


def test_image_autoencoder_and_validation_set(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(40, 8, 8, 1), dtype=np.uint8)
    data = tmp_path / "ae.npz"
    np.savez(data, x_train=x[:24], x_val=x[24:32], x_test=x[32:])
    spec = {"spec_version": 1, "name": "conv_ae", "family": "autoencoder", "input": {"shape": [8, 8, 1]},
            "encoder": [{"filters": 2, "kernel_size": 3, "pool": 2}], "training": {"epochs": 2, "batch_size": 8},
            "data": {"path": str(data)}}
    out = train(spec, out=str(tmp_path / "run"), quiet=True)
    assert {"encoder.keras", "reconstructions.png"} <= set(os.listdir(out))
    assert os.path.getsize(os.path.join(out, "reconstructions.png")) > 1000
    rows = history_rows(out)
    assert len(rows) == 2 and rows[1]["val_loss"]  # the source's own validation set
    assert read_json(os.path.join(out, "preprocessing.json"))["rescale"] == pytest.approx(1 / 255)


# ---------------------------------------------------------------- resume


class Interrupt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt at the end of epoch `at`, after the run's checkpoint is written."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.iterations = [], None

    def on_train_begin(self, logs=None):
        self.iterations = int(self.model.optimizer.iterations.numpy())

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_resume_continues_from_last_completed_epoch(tmp_path):
    out = str(tmp_path / "run")
    spec = with_(CNN, training__epochs=3)
    with pytest.raises(KeyboardInterrupt) as info:
        run_training(spec, out=out, quiet=True, callbacks=[Interrupt(at=1)])
    assert info.value.run_dir == out
    state = read_json(os.path.join(out, "state.json"))
    assert state["epoch"] == 2 and len(state["history"]["loss"]) == 2 and not state["stopped"]
    assert "DONE" not in os.listdir(out) and "checkpoint.keras" in os.listdir(out)
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]

    recorder = Recorder()
    result = run_training(spec, out=out, resume=True, quiet=True, callbacks=[recorder])
    assert recorder.epochs == [2]
    steps = int(np.ceil(300 * 0.9 / 64))
    assert recorder.iterations == 2 * steps  # the optimizer's state came back with the weights
    assert [r["epoch"] for r in history_rows(out)] == ["1", "2", "3"]
    assert result.metrics["epochs_run"] == 3
    assert "DONE" in os.listdir(out) and {"checkpoint.keras", "state.json"} <= set(os.listdir(out))
    assert read_json(os.path.join(out, "state.json"))["epoch"] == 3

    # A finished run is left alone.
    stamp = os.path.getmtime(os.path.join(out, "model.keras"))
    again = run_training(spec, out=out, resume=True, quiet=True)
    assert again.finished_before and again.metrics == result.metrics
    assert os.path.getmtime(os.path.join(out, "model.keras")) == stamp


def test_resume_keeps_early_stopping_best_weights(tmp_path):
    out = str(tmp_path / "run")
    spec = with_(CUSTOM, training__epochs=3)
    spec["training"]["early_stopping"] = {"monitor": "val_loss", "patience": 5, "restore_best_weights": True}
    with pytest.raises(KeyboardInterrupt):
        run_training(spec, out=out, quiet=True, callbacks=[Interrupt(at=1)])
    state = read_json(os.path.join(out, "state.json"))
    assert set(state["early_stopping"]) == {"wait", "best", "best_epoch"}
    assert os.path.exists(os.path.join(out, "best.keras"))
    result = run_training(spec, out=out, resume=True, quiet=True)
    assert result.metrics["epochs_run"] == 3 and os.path.exists(os.path.join(out, "DONE"))
    assert os.path.exists(os.path.join(out, "best.keras"))  # kept with the checkpoint, for an extension


def _interrupted_run(out):
    """A run directory as a kill before the first epoch's end leaves it: the marker, the spec."""
    RunDir.create("custom", str(out)).release()
    (out / "spec.json").write_text("{}")


def test_resume_without_an_epoch_done_starts_over(tmp_path):
    out = tmp_path / "run"
    _interrupted_run(out)
    result = run_training(CUSTOM, out=str(out), resume=True, quiet=True)
    assert result.metrics["epochs_run"] == 1 and (out / "DONE").exists()


def test_resume_refuses_another_spec(tmp_path):
    out = tmp_path / "run"
    _interrupted_run(out)
    other = load_spec(with_(CUSTOM, training__seed=7)).concrete()
    (out / "spec.resolved.json").write_text(json.dumps(other))
    with pytest.raises(ArchbuilderError, match=r"cannot resume: the spec differs .* at \$\.training\.seed"):
        run_training(CUSTOM, out=str(out), resume=True, quiet=True)


def test_unreadable_state_is_an_error(tmp_path):
    (tmp_path / "state.json").write_text("{\"epoch\": ")
    with pytest.raises(ArchbuilderError, match="cannot resume: unreadable state"):
        ab_callbacks.read_state(str(tmp_path))


# ---------------------------------------------------------------- refusals


def test_existing_run_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ArchbuilderError, match="the run directory exists; pass --overwrite"):
        train(CUSTOM, out=str(out), quiet=True)
    assert (out / "keep.txt").read_text() == "mine"


def test_overwrite_replaces_the_directory(tmp_path):
    out = tmp_path / "run"
    _interrupted_run(out)
    (out / "old.txt").write_text("old")
    train(CUSTOM, out=str(out), overwrite=True, quiet=True)
    assert not (out / "old.txt").exists() and (out / "DONE").exists()


def test_resume_needs_out():
    with pytest.raises(ArchbuilderError, match="--resume needs --out"):
        train(CUSTOM, resume=True, quiet=True)


def test_search_spaces_point_to_tune():
    spec = with_(CUSTOM, layers=[{"type": "Dense", "units": {"choice": [4, 8]}},
                                 {"type": "Dense", "units": 10, "activation": "softmax"}])
    with pytest.raises(SpecErrors, match=r"<spec>: \$: the spec has open search spaces: run `archbuilder tune"):
        train(spec, quiet=True)


def test_epochs_and_batch_size_are_validated_arguments(tmp_path):
    with pytest.raises(ArgumentError, match=r"archbuilder.train: epochs: expected an integer of at least 1; got 0"):
        train(CUSTOM, out=str(tmp_path / "run"), epochs=0, quiet=True)
    with pytest.raises(SpecErrors, match=r"\$\.training\.batch_size"):
        train(CUSTOM, out=str(tmp_path / "run"), overrides=["training.batch_size=0"], quiet=True)


# ---------------------------------------------------------------- the fit path's rules


def dataset_of(y, one_hot=False, names=None):
    y = np.asarray(y)
    return Dataset(x_train=np.zeros((len(y), 2), np.float32), y_train=y, one_hot=one_hot, class_names=names)


def test_balanced_class_weights():
    spec = load_spec(with_(CUSTOM, training__class_weight="balanced")).concrete()
    weights = class_weights(spec, dataset_of([0, 0, 0, 1] + list(range(2, 10))))
    assert weights[0] == pytest.approx(12 / (10 * 3)) and weights[1] == pytest.approx(12 / 10)


def test_class_weight_map_by_name_and_index():
    spec = load_spec(with_(CUSTOM, training__class_weight={"cat": 3.0, "2": 0.5})).concrete()
    names = ["cat", "dog", "owl"] + [str(i) for i in range(3, 10)]
    assert class_weights(spec, dataset_of([0, 1], names=names))[0] == 3.0
    weights = class_weights(spec, dataset_of([0, 1], names=names))
    assert weights[2] == 0.5 and weights[1] == 1.0
    bad = load_spec(with_(CUSTOM, training__class_weight={"emu": 2.0})).concrete()
    with pytest.raises(SpecError, match=r"unknown class 'emu'") as info:
        class_weights(bad, dataset_of([0, 1], names=names))
    assert info.value.path == "$.training.class_weight.emu"


def test_spec_errors_found_while_training_name_the_file(tmp_path):
    spec = with_(CUSTOM, training__class_weight={"emu": 2.0})
    with pytest.raises(SpecErrors, match=r"^<spec>: \$\.training\.class_weight\.emu: unknown class 'emu'"):
        run_training(spec, out=str(tmp_path / "run"), quiet=True)


def test_one_hot_labels_switch_to_categorical_loss():
    spec = load_spec(CNN).concrete()
    assert adapt_loss(spec, dataset_of([0, 1]))["training"]["loss"] == "sparse_categorical_crossentropy"
    assert adapt_loss(spec, dataset_of(np.eye(10), one_hot=True))["training"]["loss"] == "categorical_crossentropy"
    head = load_spec(AE_HEAD).concrete()
    assert adapt_loss(head, dataset_of(np.eye(10), one_hot=True))["head"]["loss"] == "categorical_crossentropy"


def test_precision_auto_is_float32_on_cpu():
    before = keras.config.dtype_policy().name
    try:
        assert set_precision({"mixed_precision": "auto"}) == "float32"
        assert set_precision({"mixed_precision": True}) == "mixed_bfloat16"
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
        assert set_precision({"mixed_precision": False}) == "float32"
    finally:
        keras.config.set_dtype_policy(before)


def test_augmentation_is_inactive_at_inference_and_reloads(tmp_path):
    spec = {"spec_version": 1, "name": "aug", "family": "cnn", "input": {"shape": [8, 8, 1]},
            "conv": [{"filters": 2, "kernel_size": 3}], "global_pool": "avg", "output": {"units": 2},
            "training": {"augmentation": {"flip": "horizontal", "contrast": 0.2, "translate": 0.1}}}
    concrete = load_spec(spec).concrete()
    built = build_for_training(concrete)
    names = {layer.name for layer in built.model.layers}
    assert {"augment_flip", "augment_contrast", "augment_translate"} <= names  # every one inside the model
    assert built.paths["augment_contrast"] == "$.training.augmentation.contrast"
    assert tuple(built.model.get_layer("augment_contrast").value_range) == (0.0, 1.0)  # no data: pixels in [0, 1]
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    path = str(tmp_path / "aug.keras")
    built.model.optimizer.build(built.model.trainable_variables)  # saved as after training
    built.model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), built.model.predict(x, verbose=0), atol=1e-6)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), reloaded.predict(x, verbose=0))
    trained = reloaded(x, training=True)
    assert not np.allclose(keras.ops.convert_to_numpy(trained), reloaded.predict(x, verbose=0))
