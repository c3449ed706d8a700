"""The per-trial fast path: fewer compilations, no step-by-step waits, the same results.

- Evaluation batches that divide the sample count (one evaluation-step compilation)
  give the same metrics as the training batch size.
- No callback of a trial or of `train` has a batch hook (Keras then waits for every
  step before dispatching the next); a NaN loss still fails the trial.
- On JAX, building compiles no random-number function, seeded builds repeat, and
  the weights keep their initializer's distribution; env.json says so.
- On the fast path (an accelerator, or ARCHBUILDER_FAST_PATH=on) training runs full
  batches only: one training-step compilation, the same validation data.
- A trial that differs from the last only in its learning rate or seed reuses the
  compiled model and trains exactly as a fresh one.
"""

import json
import os
import pathlib

import keras
import numpy as np
import pytest

import archbuilder
from archbuilder.run import fast_path
from archbuilder.errors import TrialError
from archbuilder.run.fit import eval_batch_size
from archbuilder.spec.load import load_spec
from jax_scripts import run_jax

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = {"dataset": "mnist1d", "max_samples": 300}


@pytest.mark.parametrize("count, batch, expected", [
    (10000, 128, 500),  # 10,000 validation images: one shape instead of 78 x 128 + 16
    (256, 128, 128),  # already divides
    (300, 128, 300),  # fits in one batch of at most 4 x 128
    (9973, 128, 128),  # prime: no divisor near, keep the batch size
    (1000, 32, 125),
    (0, 64, 64),
])  # fmt: skip
def test_eval_batch_size_divides_the_count_when_a_divisor_is_near(count, batch, expected):
    size = eval_batch_size(count, batch)
    assert size == expected
    assert size == batch or count % size == 0


def test_the_evaluation_batch_size_does_not_change_the_metrics():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 12)).astype("float32"), rng.integers(0, 3, 300)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dropout(0.5),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    plain = model.evaluate(x, y, batch_size=128, return_dict=True, verbose=0)
    divided = model.evaluate(x, y, batch_size=eval_batch_size(300, 128), return_dict=True, verbose=0)
    assert divided["accuracy"] == pytest.approx(plain["accuracy"], abs=1e-7)
    assert divided["loss"] == pytest.approx(plain["loss"], rel=1e-5)


def _batch_hooks(callback):
    from keras.src.utils.python_utils import is_default

    names = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
             "on_test_batch_end", "on_predict_batch_end")
    return [f"{type(callback).__name__}.{name}" for name in names if not is_default(getattr(callback, name))]


@pytest.fixture
def fit_callbacks(monkeypatch):
    """Every callback passed to `keras.Model.fit` while the test runs."""
    seen = []
    original = keras.Model.fit

    def spy(self, *args, **kwargs):
        seen.extend(kwargs.get("callbacks") or [])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    return seen


def tiny(**training):
    return {"spec_version": 1, "name": "tiny", "family": "cnn", "input": {"shape": [40, 1]},
            "conv": [{"filters": 4, "pool": 2}], "output": {"units": 10}, "data": DATA,
            "training": {"epochs": 1, "batch_size": 64, **training}}


def test_trial_and_train_callbacks_have_no_batch_hooks(tmp_path, fit_callbacks):
    spec = tiny(optimizer={"type": "adam", "learning_rate": {"choice": [0.01, 0.001]}},
                early_stopping={"monitor": "val_loss", "patience": 1},
                lr_schedule={"type": "reduce_on_plateau", "factor": 0.5, "patience": 1})
    archbuilder.tune(load_spec(spec), out=str(tmp_path / "tune"), max_trials=1, quiet=True)
    trial_callbacks = list(fit_callbacks)
    archbuilder.train(load_spec(tiny(early_stopping={"monitor": "val_loss", "patience": 1})),
                      out=str(tmp_path / "train"), quiet=True)
    assert len(fit_callbacks) > len(trial_callbacks) >= 4
    # TensorBoard (TensorFlow backend only) keeps its batch hooks: Keras dispatches every
    # step synchronously on TensorFlow anyway (its backend is not marked thread-safe).
    from keras.src import backend

    others = [c for c in fit_callbacks if not isinstance(c, keras.callbacks.TensorBoard)]
    assert len(others) == len(fit_callbacks) or not backend.IS_THREAD_SAFE
    assert [hook for callback in others for hook in _batch_hooks(callback)] == []
    for run in ("tune", "train"):  # both record the choices that can change results
        with open(tmp_path / run / "env.json") as f:
            env = json.load(f)
        assert env["precision"] == "float32" and env["last_partial_batch"] == "kept", run
        assert env["initial_weights"] == ("numpy" if keras.backend.backend() == "jax" else "keras"), run


def test_a_nan_loss_still_fails_the_trial_with_its_reason(tmp_path):
    spec = tiny(optimizer={"type": "sgd", "learning_rate": {"choice": [1e30]}}, epochs=2)
    spec["tuning"] = {"max_trials": 1, "max_consecutive_failed_trials": 1}
    with pytest.raises(TrialError):
        archbuilder.tune(load_spec(spec), out=str(tmp_path / "run"), quiet=True)
    with open(tmp_path / "run" / "trials.csv") as f:
        text = f.read()
    assert "FAILED" in text and "the loss became NaN at epoch 1 with learning_rate=1e+30" in text


JAX_SCRIPT = r"""
import keras
from keras.src.backend.jax import random as jax_random
from archbuilder.model.build import build_model
from archbuilder.run.reports import environment
from archbuilder.spec.load import load_spec
original = jax_random.uniform
concrete = load_spec(sys.argv[1]).concrete()
from archbuilder.run.device import seed_everything
weights = []
for seed in (7, 7, 8):
    seed_everything(seed)
    built = build_model(concrete, compile=False)
    weights.append([w.numpy() for w in built.model.weights])
from archbuilder.run.fit import build_for_training
del compiled[:]
seed_everything(9)
build_for_training(concrete)  # model, compile, optimizer slots: on the host
out = {
    "training_build_compilations": list(compiled),
    "other_seed_differs": not all(np.array_equal(a, b) for a, b in zip(weights[0], weights[2])),
    "tensorflow": "tensorflow" in sys.modules,
    "random_compilations": [c for c in compiled if "uniform" in c or "normal" in c],
    "repeats": all(np.array_equal(a, b) for a, b in zip(weights[0], weights[1])),
    "restored": jax_random.uniform is original,
    "kernels": [[list(w.shape), float(np.abs(w.numpy()).max()), float(w.numpy().std())]
                for w in built.model.weights if w.path.endswith("kernel")],
    "initial_weights": environment("float32", 7)["initial_weights"],
}
print("RESULT " + json.dumps(out))
"""


def test_jax_builds_compile_no_random_function_and_repeat_with_a_seed():
    out = run_jax(JAX_SCRIPT, str(ROOT / "specs" / "mnist1d_cnn.json"))
    assert out["random_compilations"] == []
    # Building the model, compiling it and making the optimizer's slots compiles at most a
    # scalar op or two (seeding), not a program per weight shape (zeros, ones, copies).
    assert len(out["training_build_compilations"]) <= 2, out["training_build_compilations"]
    assert out["repeats"] and out["other_seed_differs"] and out["restored"]
    assert out["tensorflow"] is False  # seeding does not import TensorFlow (2.8 s) on JAX
    assert out["initial_weights"] == "numpy"
    assert len(out["kernels"]) >= 3
    for shape, largest, std in out["kernels"]:  # glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out))
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        limit = np.sqrt(6.0 / (shape[-2] * receptive + shape[-1] * receptive))
        assert largest <= limit
        assert std == pytest.approx(limit / np.sqrt(3.0), rel=0.15)


def test_full_batches_reshuffle_every_epoch_and_drop_a_different_remainder():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    y = {"reconstruction": x * 2, "head": np.arange(10)}
    batches = fast_path.FullBatches(x, y, {"reconstruction": np.ones(10), "head": np.arange(10) / 10}, 4, seed=3)
    assert len(batches) == 2
    epochs = []
    for _ in range(4):
        rows = []
        for i in range(len(batches)):
            bx, by, bw = batches[i]
            assert bx.shape == (4, 1)
            np.testing.assert_array_equal(by["reconstruction"], bx * 2)
            np.testing.assert_array_equal(by["head"], bx[:, 0])
            np.testing.assert_allclose(bw["head"], bx[:, 0] / 10, rtol=1e-6)
            rows.extend(bx[:, 0].tolist())
        assert len(set(rows)) == 8  # no sample twice in an epoch
        epochs.append(tuple(rows))
        batches.on_epoch_end()
    assert len({frozenset(range(10)) - set(e) for e in map(frozenset, epochs)}) > 1  # the dropped pair changes
    with pytest.raises(IndexError):
        batches[2]
    again = fast_path.FullBatches(x, y, None, 4, seed=3)
    assert tuple(again[0][0][:, 0].tolist()) + tuple(again[1][0][:, 0].tolist()) == epochs[0]  # seeded


def test_split_validation_cuts_as_keras_does():
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    x, y, w = np.arange(103.0), {"a": np.arange(103) * 2}, np.linspace(0, 1, 103)
    ours = fast_path.split_validation(x, y, w, 0.2)
    theirs = train_validation_split((x, y, w), validation_split=0.2)
    for mine, keras_part in zip(ours, theirs):
        for a, b in zip(mine, keras_part):
            a, b = (a["a"], b["a"]) if isinstance(a, dict) else (a, b)
            np.testing.assert_array_equal(np.asarray(a, np.float32), np.asarray(b, np.float32))


@pytest.mark.parametrize("mode", ["on", "off"])
def test_the_fast_path_trains_full_batches_on_the_same_validation_data(tmp_path, monkeypatch, mode):
    from archbuilder.run.prepare import prepare_data

    monkeypatch.setenv(fast_path.ENV, mode)
    spec = load_spec(tiny(validation_split=0.25, epochs=2))
    n = len(prepare_data(spec).x_train)
    train_count = int(np.floor(n * 0.75))
    assert train_count % 64 != 0  # a partial batch to drop
    seen, validation = [], []
    original = keras.Model.fit

    def spy(self, *args, **kwargs):
        if "validation_data" in kwargs:
            validation.append(len(kwargs["validation_data"][0]))
        else:
            validation.append(n - int(np.floor(n * (1 - kwargs["validation_split"]))))
        return original(self, *args, **kwargs)

    class Count(keras.callbacks.Callback):  # optimizer steps per epoch
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(-int(self.model.optimizer.iterations))

        def on_epoch_end(self, epoch, logs=None):
            seen[-1] += int(self.model.optimizer.iterations)

    monkeypatch.setattr(keras.Model, "fit", spy)
    archbuilder.train(spec, out=str(tmp_path / "run"), quiet=True, callbacks=[Count()])
    batches = train_count // 64 if mode == "on" else -(-train_count // 64)
    assert seen == [batches, batches]
    assert validation == [n - train_count]
    with open(tmp_path / "run" / "env.json") as f:
        assert json.load(f)["last_partial_batch"] == ("dropped" if mode == "on" else "kept")
    with open(tmp_path / "run" / "metrics.json") as f:
        assert json.load(f)["epochs_run"] == 2
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.steps_per_execution == (fast_path.STEPS_PER_EXECUTION if mode == "on" else 1)


@pytest.mark.parametrize("interval, saves", [(None, [1, 2, 3, 4]), (0.0, [1, 2, 3, 4]), (3600.0, [4])])
def test_checkpoints_every_epoch_or_at_most_every_interval(tmp_path, monkeypatch, interval, saves):
    from archbuilder.run import callbacks

    saved = []
    original = callbacks.save_model

    def spy(model, path):
        saved.append((os.path.basename(path), len(checkpoint.history.get("loss", []))))
        return original(model, path)

    monkeypatch.setattr(callbacks, "save_model", spy)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    # mode "max" on a falling loss: the best epoch is the first, so best.keras is written from
    # early stopping's copy of the weights while the model moves on.
    es = callbacks.ResumableEarlyStopping(monitor="loss", mode="max", patience=10, restore_best_weights=True)
    checkpoint = callbacks.EpochCheckpoint(str(tmp_path), early_stopping=es, interval=interval)
    ends = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(model.get_weights()))
    model.fit(x, y, epochs=4, verbose=0, callbacks=[es, checkpoint, record])
    # Saves happen before the epoch joins the history: epoch k saves with k - 1 epochs recorded.
    assert [n for name, n in saved if name == callbacks.CHECKPOINT] == [epoch - 1 for epoch in saves]
    state = callbacks.read_state(str(tmp_path))
    assert state["epoch"] == 4 and len(state["history"]["loss"]) == 4
    best = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    best.load_weights(tmp_path / callbacks.BEST)
    for a, b in zip(best.get_weights(), es.best_weights):  # best.keras holds the best epoch's weights
        np.testing.assert_array_equal(a, b)
    assert es.best_epoch == 0
    last = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    last.load_weights(tmp_path / callbacks.CHECKPOINT)
    for a, b in zip(last.get_weights(), ends[-1]):  # and the checkpoint the last epoch's
        np.testing.assert_array_equal(a, b)


JAX_TRAIN_SCRIPT = r"""
import archbuilder
from archbuilder.spec.load import load_spec
out = {}
for mode in ("off", "on"):
    os.environ["ARCHBUILDER_FAST_PATH"] = mode
    del compiled[:]
    archbuilder.train(load_spec(json.loads(sys.argv[1])), out=os.path.join(tempfile.mkdtemp(), "run"), quiet=True)
    out[mode] = {"train": compiled.count("jit(train_step)"), "test": compiled.count("jit(test_step)")}
print("RESULT " + json.dumps(out))
"""


def test_on_jax_the_fast_path_compiles_each_step_once():
    # 300 samples: 240 to train in batches of 64 (48 left over), 60 to validate; 300 test samples.
    spec = tiny(validation_split=0.2, epochs=2)
    out = run_jax(JAX_TRAIN_SCRIPT, json.dumps(spec))
    # Off: a full and a partial training batch. Evaluation: one batch of 60 for validation and
    # batches of 150 for the 300 test samples, one shape each (without eval_batch_size: 4).
    assert out["off"] == {"train": 2, "test": 2}
    assert out["on"] == {"train": 1, "test": 2}


@pytest.mark.parametrize("setting, accelerator, on", [
    (None, True, True), (None, False, False), ("auto", True, True),
    ("off", True, False), ("on", False, True), ("OFF", True, False),
])  # fmt: skip
def test_the_fast_path_is_the_default_on_an_accelerator_only(monkeypatch, setting, accelerator, on):
    if setting is None:
        monkeypatch.delenv(fast_path.ENV, raising=False)
    else:
        monkeypatch.setenv(fast_path.ENV, setting)
    monkeypatch.setattr(fast_path, "device_info", lambda: {"kind": "gpu" if accelerator else "cpu"})
    assert fast_path.enabled() is on
    assert fast_path.steps_per_execution() == (fast_path.STEPS_PER_EXECUTION if on else 1)
    assert fast_path.checkpoint_interval() == (fast_path.CHECKPOINT_SECONDS if on else None)
    assert fast_path.choices()["last_partial_batch"] == ("dropped" if on else "kept")
    assert fast_path.drops_partial_batch(300, 64) is on
    assert not fast_path.drops_partial_batch(256, 64) and not fast_path.drops_partial_batch(50, 64)


def test_auto_follows_the_device_the_backend_sees(monkeypatch):
    from archbuilder.backend import backend_info

    monkeypatch.delenv(fast_path.ENV, raising=False)
    assert fast_path.enabled() is (backend_info()["device"] != "cpu")


AE_HEAD = {"spec_version": 1, "name": "tiny_ae", "family": "autoencoder", "input": {"shape": [40]},
           "encoder": [{"units": 16}], "bottleneck": {"units": 4}, "output": {"activation": "linear"},
           "head": {"units": 10, "activation": "softmax"}, "data": DATA,
           "training": {"epochs": 1, "batch_size": 64, "validation_split": 0.25, "class_weight": "balanced"}}


@pytest.mark.parametrize("spec", [tiny(validation_split=0.25, class_weight="balanced"), AE_HEAD],
                         ids=["class_weight", "autoencoder_head_sample_weights"])
def test_the_fast_path_takes_class_and_sample_weights(tmp_path, monkeypatch, spec):
    monkeypatch.setenv(fast_path.ENV, "on")
    archbuilder.train(load_spec(spec), out=str(tmp_path / "run"), quiet=True)
    with open(tmp_path / "run" / "metrics.json") as f:
        metrics = json.load(f)
    assert metrics["epochs_run"] == 1 and np.isfinite(metrics["test_loss"])
    with open(tmp_path / "run" / "env.json") as f:
        assert json.load(f)["last_partial_batch"] == "dropped"


# ---------------------------------------------------------------- compiled models reused across trials

REUSE = {"spec_version": 1, "name": "reuse", "family": "cnn", "input": {"shape": [40, 1]},
         "conv": [{"filters": {"choice": [4, 6]}, "pool": 2, "batch_norm": True}],
         "dense": [{"units": 8, "dropout": 0.5}], "output": {"units": 10}, "data": DATA,
         "training": {"epochs": 2, "batch_size": 64, "validation_split": 0.2,
                      "optimizer": {"type": "adam", "learning_rate": {"choice": [0.01, 0.002]}}}}


def _trial(hypermodel, dataset, filters, rate, seed=42):
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values.update({"conv[0].filters": filters, "training.optimizer.learning_rate": rate})
    hypermodel.spec.doc["training"]["seed"] = seed
    model = hypermodel.build(hp)
    state = {"weights": [w.numpy() for w in model.weights], "rate": float(model.optimizer.learning_rate),
             "iterations": int(model.optimizer.iterations)}
    history = hypermodel.fit(hp, model, dataset).history
    return model, state, history


def test_a_trial_differing_only_in_learning_rate_reuses_the_model_and_trains_as_a_fresh_one():
    from archbuilder.run.prepare import prepare_data
    from archbuilder.tuning.hypermodel import SpecHyperModel

    spec = load_spec(REUSE)
    dataset = prepare_data(spec)
    reusing = SpecHyperModel(spec, dataset=dataset)
    first, _, _ = _trial(reusing, dataset, 4, 0.01)
    second, state, history = _trial(reusing, dataset, 4, 0.002, seed=7)
    assert second is first  # same architecture: the compiled model comes back
    third, _, _ = _trial(reusing, dataset, 6, 0.002)
    assert third is not second  # another width: a new model

    fresh_model, fresh_state, fresh_history = _trial(SpecHyperModel(spec, dataset=dataset), dataset, 4, 0.002, seed=7)
    assert fresh_model is not first
    assert state["rate"] == fresh_state["rate"] == pytest.approx(0.002) and state["iterations"] == 0
    for a, b in zip(state["weights"], fresh_state["weights"]):
        np.testing.assert_array_equal(a, b)
    assert history.keys() == fresh_history.keys()
    for key in history:  # the same training, dropout masks and batch-norm statistics included
        np.testing.assert_allclose(history[key], fresh_history[key], rtol=1e-5, atol=1e-6)


JAX_TUNE_SCRIPT = r"""
import archbuilder
from archbuilder.spec.load import load_spec
spec = json.loads(sys.argv[1])
archbuilder.tune(load_spec(spec), out=os.path.join(tempfile.mkdtemp(), "run"), quiet=True)
print("RESULT " + json.dumps({"train": compiled.count("jit(train_step)"), "test": compiled.count("jit(test_step)")}))
"""


def test_on_jax_a_learning_rate_search_compiles_its_steps_once():
    spec = {**REUSE, "conv": [{"filters": 4, "pool": 2}],
            "training": {**REUSE["training"], "epochs": 1, "validation_split": 0.25,
                         "optimizer": {"type": "adam", "learning_rate": {"choice": [0.01, 0.003, 0.001]}}},
            "tuning": {"tuner": "grid", "max_trials": 3}}
    # 300 samples: 225 to train in batches of 64 (two shapes), 75 to validate (one batch).
    assert run_jax(JAX_TUNE_SCRIPT, json.dumps(spec)) == {"train": 2, "test": 1}  # not 6 and 3
