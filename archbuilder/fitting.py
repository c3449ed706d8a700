"""The one fit loop of archbuilder, shared by `train`, `compare` and `tune`.

Seeding, the precision policy, the data a spec trains on, class weights, early
stopping, learning-rate callbacks, augmentation and autoencoder targets are
decided here, once, so a tuning trial trains exactly as `archbuilder train`
does. The run directory around it is `archbuilder.training`'s.

Example:
    >>> spec = load_spec("specs/mnist1d_cnn.json")
    >>> concrete = spec.concrete()
    >>> dataset = prepare_data(spec, concrete=concrete)
    >>> concrete = adapt_loss(concrete, dataset)
    >>> seed_everything(concrete["training"]["seed"])
    >>> set_precision(concrete["training"])
    >>> built = build_for_training(concrete, dataset)
    >>> history = fit_model(built, concrete, dataset, verbose=2)
"""

import contextlib
import copy
import os
import random
import sys
import types

import numpy as np

from archbuilder import normalize
from archbuilder.backend import select_backend
from archbuilder.data import load_data
from archbuilder.data import parse_data
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors

select_backend()
import keras  # noqa: E402  (after select_backend: Keras reads KERAS_BACKEND once)

from archbuilder import fast_path  # noqa: E402
from archbuilder.callbacks import ResumableEarlyStopping  # noqa: E402
from archbuilder.compile import compile_model  # noqa: E402
from archbuilder.compile import lr_callbacks  # noqa: E402
from archbuilder.host_init import host_initializers  # noqa: E402
from archbuilder.model import Built  # noqa: E402
from archbuilder.model import build_model  # noqa: E402

__all__ = [
    "seed_everything",
    "set_precision",
    "precision_of",
    "precision_scope",
    "prepare_data",
    "resolved_data",
    "adapt_loss",
    "targets",
    "class_weights",
    "early_stopping_callback",
    "fit_model",
    "eval_batch_size",
    "augmentation_layers",
    "build_for_training",
]


def seed_everything(seed):
    """Seeds Python, NumPy and the backend. Call it after loading data: mnist1d reseeds globals.

    `keras.utils.set_random_seed` also seeds TensorFlow when it is installed, importing
    it (2.8 s) on JAX and PyTorch too, where nothing of archbuilder's uses it: there it
    runs without TensorFlow unless TensorFlow is already imported.
    """
    from keras.src.utils import rng_utils

    random.seed(seed)
    np.random.seed(seed)
    skip_tf = keras.backend.backend() != "tensorflow" and "tensorflow" not in sys.modules and \
        hasattr(rng_utils, "tf")
    if not skip_tf:
        keras.utils.set_random_seed(seed)
        return
    lazy = rng_utils.tf
    rng_utils.tf = types.SimpleNamespace(available=False)
    try:
        keras.utils.set_random_seed(seed)
    finally:
        rng_utils.tf = lazy


def _gpu_supports_bfloat16():
    """True on a GPU of compute capability >= 8.0 or a TPU, for the backend in use."""
    name = keras.backend.backend()
    try:
        if name == "tensorflow":
            import tensorflow as tf

            if tf.config.list_logical_devices("TPU"):
                return True
            for gpu in tf.config.list_physical_devices("GPU"):
                capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
                if capability and tuple(capability) >= (8, 0):
                    return True
        elif name == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform == "tpu":
                return True
            capability = getattr(device, "compute_capability", None)
            return device.platform == "gpu" and capability is not None and float(capability) >= 8.0
        elif name == "torch":
            import torch

            return torch.cuda.is_available() and torch.cuda.get_device_capability(0) >= (8, 0)
    except Exception:  # a device query that fails means: no usable accelerator
        return False
    return False


def set_precision(training):
    """Sets Keras's global dtype policy from `training.mixed_precision`; call it before building.

    Args:
        training: the concrete `training` section. `"auto"`: bfloat16 on a GPU of
            compute capability 8.0 or more (or a TPU), float32 elsewhere;
            `true` / `false` force mixed bfloat16 on or off.

    Returns:
        The policy's name: `"float32"` or `"mixed_bfloat16"`.
    """
    policy = precision_of(training)
    keras.config.set_dtype_policy(policy)
    return policy


def precision_of(training):
    """The dtype policy `set_precision` would set for `training`, without setting it."""
    setting = training.get("mixed_precision", "auto")
    mixed = _gpu_supports_bfloat16() if setting == "auto" else bool(setting)
    return "mixed_bfloat16" if mixed else "float32"


@contextlib.contextmanager
def precision_scope(training):
    """`set_precision` for the duration of a block; the previous global policy comes back after."""
    previous = keras.config.dtype_policy()
    try:
        yield set_precision(training)
    finally:
        keras.config.set_dtype_policy(previous)


def _output_units(concrete):
    family = concrete["family"]
    if family in ("cnn", "rnn"):
        return concrete["output"]["units"]
    if family == "autoencoder":
        return (concrete.get("head") or {}).get("units")
    return normalize.prediction_layer(concrete)[0]


def _sequence_labels(concrete):
    rnn = concrete.get("rnn") or {}
    return concrete["family"] == "rnn" and rnn.get("return_sequences") and concrete.get("sequence_pool") is None


def _data_value(spec, concrete, data):
    """`(data, base_dir)`: `data` (relative to the working directory) beats the spec's own."""
    if data is not None:
        return data, None
    return concrete.get("data"), spec.base_dir


def prepare_data(spec, data=None, concrete=None):
    """Loads the training data of a spec (design.md section 4).

    Args:
        spec: a `Spec` (its `base_dir` resolves relative paths of its own `data`).
        data: overrides the spec's `data` (`--data`): a dict, a JSON string, a
            path or a dataset name; relative paths are relative to the working directory.
        concrete: the concrete spec (default `spec.concrete()`).

    Returns:
        A `archbuilder.data.Dataset`. Call `adapt_loss` on the concrete spec
        afterwards: one-hot labels switch the loss to `categorical_crossentropy`.

    Raises:
        DataError: no data, or data that does not fit the spec.
    """
    concrete = concrete if concrete is not None else spec.concrete()
    value, base_dir = _data_value(spec, concrete, data)
    training = concrete["training"]
    return load_data(
        value, concrete["input"]["shape"], input_dtype=concrete["input"].get("dtype", "float32"),
        base_dir=base_dir, output_units=_output_units(concrete), task=normalize.task_of(concrete),
        sequence_labels=bool(_sequence_labels(concrete)), seed=training.get("seed", 42),
        validation_split=training.get("validation_split"),
    )  # fmt: skip


def resolved_data(spec, concrete, data):
    """The data a run used, as a dict with absolute paths (what spec.resolved.json records)."""
    value, base_dir = _data_value(spec, concrete, data)
    parsed, _ = parse_data(value, base_dir)
    # As in parse_data: with "path", x/y/... name arrays inside the file; without, they are .npy files.
    for key in ("path",) if "path" in parsed else ("x", "y", "x_test", "y_test", "x_val", "y_val"):
        if key in parsed:
            parsed[key] = os.path.abspath(parsed[key])
    return parsed


def adapt_loss(concrete, dataset):
    """A copy of the concrete spec whose sparse loss is categorical when the labels are one-hot rows."""
    if not dataset.one_hot:
        return concrete
    concrete = copy.deepcopy(concrete)
    holder = concrete["head"] if concrete["family"] == "autoencoder" else concrete["training"]
    loss = holder.get("loss")
    if loss == "sparse_categorical_crossentropy":
        holder["loss"] = "categorical_crossentropy"
    elif isinstance(loss, dict) and loss.get("type") == "sparse_categorical_crossentropy":
        loss["type"] = "categorical_crossentropy"
    return concrete


def targets(concrete, x, y):
    """What the model is fit against: labels; an autoencoder's clean input (and head labels)."""
    if concrete["family"] != "autoencoder":
        return y
    if concrete.get("head"):
        return {"reconstruction": x, "head": y}
    return x


def _class_ids(dataset):
    y = dataset.y_train
    return np.argmax(y, axis=-1) if dataset.one_hot else np.asarray(y).astype(np.int64).ravel()


def class_weights(concrete, dataset):
    """`training.class_weight` as `{class index: weight}`, or None."""
    setting = concrete["training"].get("class_weight")
    if not setting:
        return None
    path = "$.training.class_weight"
    if normalize.task_of(concrete) != "classification":
        raise SpecError(path, "class_weight applies to classifiers; this model is a regression or reconstruction")
    if _sequence_labels(concrete):
        raise SpecError(path, "class_weight does not apply to per-step labels (rnn.return_sequences)")
    units = _output_units(concrete) or 2
    num_classes = max(units, 2)
    ids = _class_ids(dataset)
    if setting == "balanced":
        counts = np.bincount(ids, minlength=num_classes).astype(np.float64)
        return {i: float(len(ids) / (num_classes * c)) if c else 1.0 for i, c in enumerate(counts)}
    names = dataset.class_names or []
    weights = {i: 1.0 for i in range(num_classes)}
    for key, value in setting.items():
        if key in names:
            index = names.index(key)
        elif key.isdigit() and int(key) < num_classes:
            index = int(key)
        else:
            known = ", ".join(names) if names else f"0..{num_classes - 1}"
            raise SpecError(f"{path}.{key}", f"unknown class {key!r}; the classes are {known}")
        weights[index] = float(value)
    return weights


def _fit_weights(concrete, dataset):
    """`(class_weight, sample_weight)` for `fit`: Keras takes class_weight for one output only."""
    weights = class_weights(concrete, dataset)
    if weights is None or concrete["family"] != "autoencoder":
        return weights, None
    per_sample = np.array([weights[int(i)] for i in _class_ids(dataset)], np.float32)
    return None, {"reconstruction": np.ones(len(per_sample), np.float32), "head": per_sample}


def early_stopping_callback(concrete, state=None):
    """The `EarlyStopping` of `training.early_stopping` (resumable from `state`), or None."""
    config = concrete["training"].get("early_stopping")
    if not config:
        return None
    try:
        return ResumableEarlyStopping(state=state, **config)
    except (TypeError, ValueError) as e:
        raise SpecError("$.training.early_stopping", str(e).splitlines()[0]) from None


def eval_batch_size(count, batch_size):
    """The batch size to evaluate `count` samples with: one that divides `count` when one is near.

    Each distinct batch shape is one more compilation of the evaluation step (XLA on
    JAX, a retrace on TensorFlow): 10,000 validation images in batches of 128 end in a
    batch of 16 and compile twice; in batches of 500 they compile once. The metrics are
    the same for any batch size (Keras averages over samples, and evaluation runs batch
    norm and dropout in inference mode). Without a divisor between half and four times
    `batch_size`, `batch_size` is kept.
    """
    count, batch_size = int(count), int(batch_size)
    if count <= 0 or count % batch_size == 0:
        return batch_size
    if count <= 4 * batch_size:
        return count
    for size in range(4 * batch_size, max(batch_size // 2, 1) - 1, -1):
        if count % size == 0:
            return size
    return batch_size


def _validation_count(dataset, training):
    if dataset.x_val is not None:
        return len(dataset.x_val)
    split = training.get("validation_split")
    count = len(dataset.x_train)
    return count - fast_path.split_at(count, split) if split else 0


def fit_model(built, concrete, dataset, *, callbacks=(), verbose="auto", initial_epoch=0, epochs=None,
              batch_size=None):
    """Fits a built model on a dataset as the spec's `training` section says.

    The one fit loop of archbuilder (`train`, `compare` and `tune` use it):
    validation set or `validation_split`, class weights (`"balanced"` computed
    from the labels), early stopping (unless `callbacks` already holds an
    `EarlyStopping`), `reduce_on_plateau`, and autoencoder targets.

    Args:
        built: a `Built` from `build_model` (or `build_for_training`).
        concrete: its concrete spec (after `adapt_loss`).
        dataset: from `prepare_data`.
        callbacks: more Keras callbacks, called after archbuilder's own.
        verbose: Keras's `verbose` (0 silent, 1 progress bar, 2 one line per epoch).
        initial_epoch: the epoch to start at (a resumed run).
        epochs: overrides `training.epochs`.
        batch_size: overrides `training.batch_size`.

    Returns:
        The Keras `History`.
    """
    training = concrete["training"]
    class_weight, sample_weight = _fit_weights(concrete, dataset)
    own = [] if any(isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks) else \
        [early_stopping_callback(concrete)]
    all_callbacks = [c for c in own if c is not None] + lr_callbacks(concrete) + list(callbacks)
    batch_size = batch_size or training["batch_size"]
    x, y = dataset.x_train, targets(concrete, dataset.x_train, dataset.y_train)
    validation_count = _validation_count(dataset, training)
    validation = {"validation_batch_size": eval_batch_size(validation_count, batch_size)}
    if dataset.x_val is not None:
        validation["validation_data"] = (dataset.x_val, targets(concrete, dataset.x_val, dataset.y_val))
    elif training.get("validation_split"):
        validation["validation_split"] = training["validation_split"]
    data = {"x": x, "y": y, "sample_weight": sample_weight, "batch_size": batch_size}
    split = validation.get("validation_split")
    if fast_path.drops_partial_batch(len(x) - validation_count if split else len(x), batch_size):  # one training-step shape: see archbuilder.fast_path
        if split:
            del validation["validation_split"]
            (x, y, sample_weight), validation["validation_data"] = fast_path.split_validation(x, y, sample_weight,
                                                                                             split)
        data = {"x": fast_path.FullBatches(x, y, sample_weight, batch_size, seed=training.get("seed", 42))}
    return built.model.fit(
        **data, epochs=epochs or training["epochs"], initial_epoch=initial_epoch, class_weight=class_weight,
        callbacks=all_callbacks, verbose=verbose, **validation,
    )  # fmt: skip


# ---------------------------------------------------------------- augmentation


def _layer_names(model):
    names = set()
    for layer in model.layers:
        names.add(layer.name)
        if isinstance(layer, keras.Model):
            names |= _layer_names(layer)
    return names


def augmentation_layers(concrete, model, value_range=(0.0, 1.0)):
    """Keras preprocessing layers for `training.augmentation` entries the built model lacks.

    The cnn and custom builders put `augment_flip`, `augment_translate`,
    `augment_rotate`, `augment_zoom` in the model; this returns the rest (for
    now `contrast`). Autoencoders get none: their target is the input itself.
    """
    config = concrete["training"].get("augmentation") or {}
    if concrete["family"] == "autoencoder" or len(concrete["input"]["shape"]) != 3:
        return []
    present = _layer_names(model)
    factories = {
        "flip": lambda v: keras.layers.RandomFlip(mode=v, name="augment_flip"),
        "translate": lambda v: keras.layers.RandomTranslation(v, v, name="augment_translate"),
        "rotate": lambda v: keras.layers.RandomRotation(v, name="augment_rotate"),
        "zoom": lambda v: keras.layers.RandomZoom(v, name="augment_zoom"),
        "contrast": lambda v: keras.layers.RandomContrast(v, value_range=value_range, name="augment_contrast"),
    }
    return [make(config[key]) for key, make in factories.items()
            if config.get(key) and f"augment_{key}" not in present]


def build_for_training(concrete, dataset=None, source=None):
    """Builds and compiles the model of a concrete spec, with any augmentation the builder left out.

    Raises:
        SpecErrors: Keras refused a layer (located at its spec path).
    """
    try:
        built = build_model(concrete, compile=False)
        value_range = (0.0, 1.0)
        if dataset is not None and np.issubdtype(dataset.x_train.dtype, np.floating):
            value_range = (float(np.floor(dataset.x_train.min())), float(np.ceil(dataset.x_train.max())))
        extra = augmentation_layers(concrete, built.model, value_range)
        if extra:
            # Only the outer model is compiled: a compiled inner model would save a second optimizer.
            inner = built.model
            inputs = keras.Input(shape=inner.input_shape[1:], dtype=inner.inputs[0].dtype, name="augment_input")
            x = inputs
            for layer in extra:
                x = layer(x)
            paths = dict(built.paths)
            paths.update({layer.name: f"$.training.augmentation.{layer.name[8:]}" for layer in extra})
            paths[inner.name] = "$"
            built = Built(model=keras.Model(inputs, inner(x), name=inner.name), encoder=built.encoder, paths=paths)
        compile_model(built.model, concrete, steps_per_execution=fast_path.steps_per_execution())
        with host_initializers():  # the optimizer's slots now, filled by NumPy on JAX (else at the first step)
            built.model.optimizer.build(built.model.trainable_variables)
        return built
    except SpecError as e:
        raise SpecErrors([SpecError(e.path, e.message, source)]) from None
