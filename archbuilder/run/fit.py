"""The one fit loop of archbuilder, shared by `train`, `compare` and `tune`.

Fit targets, class weights, early stopping, learning-rate callbacks and the
validation split are decided here, once, so a tuning trial trains exactly as
`archbuilder train` does. The run directory around it is `archbuilder.run.train`'s.

Example:
    >>> spec = load_spec("specs/mnist1d_cnn.json")
    >>> dataset = prepare_data(spec)
    >>> concrete = adapt_loss(spec.concrete(), dataset)
    >>> seed_everything(concrete["training"]["seed"])
    >>> with precision_scope(concrete["training"]):
    ...     built = build_for_training(concrete, dataset)
    ...     history = fit_model(built, concrete, dataset, verbose=2)
"""

import keras
import numpy as np

from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.format import jsonpath
from archbuilder.model.build import build_model
from archbuilder.model.compile import compile_model
from archbuilder.model.compile import lr_callbacks
from archbuilder.model.host_init import host_initializers
from archbuilder.run import fast_path
from archbuilder.run.callbacks import ResumableEarlyStopping
from archbuilder.spec.normalize import outputs
from archbuilder.spec.normalize import prediction
from archbuilder.spec.normalize import task_of

__all__ = ["targets", "class_weights", "early_stopping_callback", "eval_batch_size", "fit_arguments", "fit_model",
           "draw_first_fit_shuffle", "build_for_training"]


def targets(concrete, x, y):
    """What the model is fit against: the labels, or the input itself, per output (a dict for several)."""
    model_outputs = outputs(concrete)
    if len(model_outputs) == 1:
        return x if model_outputs[0].target == "input" else y
    return {o.name: x if o.target == "input" else y for o in model_outputs}


def _class_ids(dataset):
    y = dataset.y_train
    return np.argmax(y, axis=-1) if dataset.one_hot else np.asarray(y).astype(np.int64).ravel()


def class_weights(concrete, dataset):
    """`training.class_weight` as `{class index: weight}`, or None."""
    setting = concrete["training"]["class_weight"]
    if not setting:
        return None
    path = "$.training.class_weight"
    if task_of(concrete) != "classification":
        raise SpecError(path, "class_weight applies to classifiers; this model is a regression or reconstruction")
    labels = prediction(concrete)
    if labels.per_step:
        raise SpecError(path, "class_weight does not apply to per-step labels (rnn.return_sequences)")
    units = labels.units or 2
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
            raise SpecError(jsonpath.join(path, key), f"unknown class {key!r}; the classes are {known}")
        weights[index] = float(value)
    return weights


def _fit_weights(concrete, dataset):
    """`(class_weight, sample_weight)` for `fit`: Keras takes class_weight for a model of one output only."""
    weights = class_weights(concrete, dataset)
    model_outputs = outputs(concrete)
    if weights is None or len(model_outputs) == 1:
        return weights, None
    per_sample = np.array([weights[int(i)] for i in _class_ids(dataset)], np.float32)
    ones = np.ones(len(per_sample), np.float32)
    return None, {o.name: per_sample if o.target == "labels" else ones for o in model_outputs}


def early_stopping_callback(concrete, state=None):
    """The `EarlyStopping` of `training.early_stopping` (resumable from `state`), or None."""
    config = concrete["training"]["early_stopping"]
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
    split = training["validation_split"]
    count = len(dataset.x_train)
    return count - fast_path.split_at(count, split) if split else 0


def fit_arguments(concrete, dataset, *, callbacks=(), verbose="auto", initial_epoch=0, epochs=None,
                  batch_size=None):
    """The keyword arguments of `keras.Model.fit` for a spec's `training` section, decided once.

    The one place where the validation set or split, class weights (`"balanced"`
    computed from the labels), early stopping (unless `callbacks` already holds an
    `EarlyStopping`), `reduce_on_plateau`, autoencoder targets and the fast path's
    full batches are decided: `fit_model` passes them to `fit`, and a pack of trials
    (`archbuilder.tuning.pack_fit`) reads each member's from here too.

    Args:
        concrete: the concrete spec (after `adapt_loss`).
        dataset: from `prepare_data`.
        callbacks: more Keras callbacks, called after archbuilder's own.
        verbose: Keras's `verbose` (0 silent, 1 progress bar, 2 one line per epoch).
        initial_epoch: the epoch to start at (a resumed run).
        epochs: overrides `training.epochs`.
        batch_size: overrides `training.batch_size`.

    Returns:
        A dict for `model.fit(**arguments)`.
    """
    training = concrete["training"]
    class_weight, sample_weight = _fit_weights(concrete, dataset)
    given = any(isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks)
    own = [] if given else [early_stopping_callback(concrete)]
    all_callbacks = [c for c in own if c is not None] + lr_callbacks(concrete) + list(callbacks)
    batch_size = batch_size or training["batch_size"]
    x, y = dataset.x_train, targets(concrete, dataset.x_train, dataset.y_train)
    validation_count = _validation_count(dataset, training)
    validation = {"validation_batch_size": eval_batch_size(validation_count, batch_size)}
    if dataset.x_val is not None:
        validation["validation_data"] = (dataset.x_val, targets(concrete, dataset.x_val, dataset.y_val))
    elif training["validation_split"]:
        validation["validation_split"] = training["validation_split"]
    data = {"x": x, "y": y, "sample_weight": sample_weight, "batch_size": batch_size}
    split = validation.get("validation_split")
    # One training-step shape on the fast path (see archbuilder.run.fast_path): full batches only.
    if fast_path.drops_partial_batch(len(x) - validation_count if split else len(x), batch_size):
        if split:
            del validation["validation_split"]
            (x, y, sample_weight), validation["validation_data"] = fast_path.split_validation(x, y, sample_weight,
                                                                                             split)
        # FullBatches shuffles every epoch itself, seeded: Keras's extra shuffle of the batch order
        # (Python's global `random`) would only make the order depend on more global state.
        data = {"x": fast_path.FullBatches(x, y, sample_weight, batch_size, seed=training["seed"]), "shuffle": False}
    return {**data, "epochs": epochs or training["epochs"], "initial_epoch": initial_epoch,
            "class_weight": class_weight, "callbacks": all_callbacks, "verbose": verbose, **validation}


def draw_first_fit_shuffle(arguments):
    """Advances NumPy's global generator as a fresh model's first `fit(**arguments)` does, on JAX.

    The first `fit` of a compiled model pulls one batch to build its metrics
    (Keras's `_symbolic_build`); on JAX, with NumPy arrays, that pull draws one
    shuffle of the training samples from NumPy's global generator before the
    epochs draw theirs. A model whose metrics are built already (a compiled model
    that a tuning trial reuses) pulls none: calling this before its `fit` gives its
    epochs the shuffles a fresh model's would get.
    """
    x = arguments["x"]
    if keras.backend.backend() != "jax" or arguments.get("shuffle", True) is not True or not isinstance(x, np.ndarray):
        return  # other backends shuffle without NumPy's global generator; FullBatches draws from its own
    count = len(x)
    if arguments.get("validation_split") and arguments.get("validation_data") is None:
        count = fast_path.split_at(count, arguments["validation_split"])
    np.random.permutation(count)


def fit_model(built, concrete, dataset, **options):
    """Fits a built model on a dataset as the spec's `training` section says.

    The one fit loop of archbuilder (`train`, `compare` and `tune` use it); what it
    passes to `fit` is `fit_arguments`'s.

    Args:
        built: a `Built` from `build_model` (or `build_for_training`).
        concrete: its concrete spec (after `adapt_loss`).
        dataset: from `prepare_data`.
        **options: `callbacks`, `verbose`, `initial_epoch`, `epochs`, `batch_size`, as `fit_arguments` takes them.

    Returns:
        The Keras `History`.
    """
    return built.model.fit(**fit_arguments(concrete, dataset, **options))


def build_for_training(concrete, dataset=None, source=None):
    """Builds and compiles the model of a concrete spec for training (contrast augmentation on the data's range).

    Raises:
        SpecErrors: Keras refused a layer (located at its spec path).
    """
    try:
        value_range = (0.0, 1.0)
        if dataset is not None and np.issubdtype(dataset.x_train.dtype, np.floating):
            value_range = (float(np.floor(dataset.x_train.min())), float(np.ceil(dataset.x_train.max())))
        built = build_model(concrete, compile=False, value_range=value_range)
        compile_model(built.model, concrete, steps_per_execution=fast_path.steps_per_execution())
        with host_initializers():  # the optimizer's slots now, filled by NumPy on JAX (else at the first step)
            built.model.optimizer.build(built.model.trainable_variables)
        return built
    except SpecError as e:
        raise SpecErrors([SpecError(e.path, e.message, source)]) from None
