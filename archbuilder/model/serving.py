"""Saved models take raw inputs: archbuilder's preprocessing as Keras layers in front of the trained graph.

Training fits the trained graph on preprocessed arrays (`archbuilder.data.preprocessing`),
so its math does not depend on this module. Every model archbuilder saves is the
*served* model built here at save time:

    raw input -> InputContract -> [Reshape] -> [Rescaling] -> [Normalization] -> trained graph

`InputContract` computes nothing; its config records what the model takes and predicts.
`Rescaling` casts 8-bit pixels to float32 and scales them; `Normalization` holds the
training split's mean and variance. The preprocessing layers compute in float32 under
any precision policy, as the NumPy preprocessing of training does.

Example:
    >>> served = serving_model(built.model, dataset.preprocessing)
    >>> served.predict(raw_rows)          # the same numbers as built.model.predict(dataset.x_test)
    >>> open_served(keras.saving.load_model("model.keras")).contract["class_names"]
"""

import dataclasses

import keras
import numpy as np

from archbuilder import compat
from archbuilder.data.preprocessing import CONTRACT_FORMAT
from archbuilder.data.preprocessing import identity_contract
from archbuilder.data.preprocessing import input_contract
from archbuilder.data.preprocessing import numpy_dtype
from archbuilder.errors import ArchbuilderError
from archbuilder.layers.keras_layers import InputContract

__all__ = ["CONTRACT_LAYER", "TASKS", "Serving", "serving_model", "contract_of", "open_served", "model_output"]

CONTRACT_LAYER = "input_contract"
TASKS = ("classification", "regression", "reconstruction", "code")


def model_output(model):
    """`model.output` (a dict for named outputs); a loaded Sequential has only `model.outputs`."""
    try:
        return model.output
    except AttributeError:  # "has never been called": a Sequential read back from a file
        return model.outputs[0] if len(model.outputs) == 1 else model.outputs


def serving_model(model, preprocessing, *, task=None, code=None):
    """The served model of a trained graph: raw inputs in, the trained graph's outputs out.

    Args:
        model: the trained `keras.Model` (its input takes preprocessed arrays).
        preprocessing: `Dataset.preprocessing` of its training data.
        task: recorded in the contract (default `preprocessing["task"]`); `"code"` for an encoder.
        code: an autoencoder's code layer name, recorded for `evaluate`'s code sparsity.

    Returns:
        A `keras.Model` named like `model`, compiled with its loss, metrics and optimizer
        when `model` is compiled.
    """
    contract = input_contract(preprocessing, task, code)
    steps = contract["preprocessing"]
    raw = keras.Input(shape=tuple(contract["input"]["shape"]), dtype=contract["input"]["dtype"], name="input")
    x = InputContract(contract, name=CONTRACT_LAYER, dtype="float32")(raw)
    if steps["reshape"]:
        x = keras.layers.Reshape(tuple(steps["reshape"]), name="reshape", dtype="float32")(x)
    integer_in = numpy_dtype(contract["input"]["dtype"]).kind in "iu"
    float_model = numpy_dtype(contract["trained_input"]["dtype"]).kind == "f"
    if steps["rescale"] != 1.0 or (integer_in and float_model):  # Rescaling casts 8-bit pixels to float32
        x = keras.layers.Rescaling(steps["rescale"], name="rescale", dtype="float32")(x)
    normalize = preprocessing.get("normalize")
    if normalize:
        std = np.asarray(normalize["std"], np.float32)
        # sqrt(float32(std**2)) == std exactly, so the layer divides by the std training used.
        variance = (std.astype(np.float64) ** 2).astype(np.float32)
        x = keras.layers.Normalization(axis=normalize.get("axis", -1), mean=normalize["mean"],
                                       variance=variance.tolist(), name="standardize", dtype="float32")(x)
    # A second Functional over the same layers (no copy): nested, it carries no optimizer of its own,
    # so the file holds the trained optimizer once, as the served model's.
    graph = keras.Model(model.input, model_output(model), name=model.name)
    served = keras.Model(raw, graph(x), name=model.name)
    _compile_like(served, model)
    return served


def _compile_like(served, model):
    """Compiles `served` with `model`'s loss, metrics and (trained) optimizer, so it evaluates and saves alike."""
    with compat.serializing_without_tensorflow():
        config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if config is None:
        return
    config = keras.saving.deserialize_keras_object(config)
    if model.optimizer is not None:
        config["optimizer"] = model.optimizer
    served.compile(**config)
    if not served.optimizer.built:
        served.optimizer.build(served.trainable_variables)


def contract_of(model):
    """The contract recorded in a served model (its `InputContract` layer's), or None."""
    layer = next((layer for layer in model.layers if isinstance(layer, InputContract)), None)
    return layer.contract if layer is not None else None


@dataclasses.dataclass
class Serving:
    """A model ready for raw inputs, and what is known about them.

    Attributes:
        model: takes raw inputs (`contract["input"]`): a served model, or a bare one fed as is.
        contract: what the model takes and predicts (see `input_contract`).
        trained: the trained graph inside `model` (`model` itself for a bare model).
        recorded: False for a bare model with neither the layers nor a `preprocessing.json`.
    """

    model: object
    contract: dict
    trained: object
    recorded: bool = True

    @property
    def task(self):
        return self.contract.get("task")

    def preprocess(self, x, batch_size=256):
        """The raw inputs `x` as the trained graph sees them (the preprocessing layers' output)."""
        if self.trained is self.model:
            return np.asarray(x)
        head = keras.Model(self.model.inputs, self.model.layers[-2].output)  # the input of the trained graph
        return np.asarray(head.predict(x, batch_size=batch_size, verbose=0))


def _known_dtype(name):
    if name == "bfloat16":
        return True
    try:
        return isinstance(name, str) and np.dtype(name).kind in "iuf"
    except TypeError:
        return False


def _check_contract(contract, source):
    """Refuses a contract archbuilder cannot read (a newer format, or values of the wrong kind)."""

    def fail(why):
        raise ArchbuilderError(f"{source}: the model's input contract {why}")

    if not isinstance(contract, dict) or not isinstance(contract.get("format"), int):
        fail("is not a JSON object with a format number")
    if contract["format"] > CONTRACT_FORMAT:
        fail(f"has format {contract['format']}, newer than this archbuilder reads ({CONTRACT_FORMAT}); "
             "upgrade archbuilder")
    for key in ("input", "trained_input"):
        part = contract.get(key)
        shape = part.get("shape") if isinstance(part, dict) else None
        if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and d > 0) for d in shape):
            fail(f"has no valid {key}.shape")
        if not _known_dtype(part.get("dtype")):
            fail(f"has an unknown {key}.dtype {part.get('dtype')!r}")
    if contract.get("task") not in TASKS + (None,):
        fail(f"has an unknown task {contract.get('task')!r}")
    for key in ("class_names", "features"):
        names = contract.get(key)
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            fail(f"has {key} that are not a list of strings")


def open_served(model, preprocessing=None, *, task=None, source=None):
    """A loaded model as a `Serving`: from its own contract, else from `preprocessing.json`, else as is.

    Args:
        model: a loaded `keras.Model`.
        preprocessing: the `preprocessing.json` beside it (a run written by archbuilder 0.1.0), or None.
        task: the task to record when the file has no contract.
        source: the file's name, for errors.

    Raises:
        ArchbuilderError: the file's contract is malformed or newer than this archbuilder.
    """
    contract = contract_of(model)
    if contract is not None:
        _check_contract(contract, source or model.name)
        trained = model.layers[-1] if isinstance(model.layers[-1], keras.Model) else model
        return Serving(model=model, contract=contract, trained=trained)
    if preprocessing:
        served = serving_model(model, preprocessing, task=task or preprocessing.get("task"))
        return Serving(model=served, contract=contract_of(served), trained=model)
    first = model.inputs[0]
    contract = identity_contract(first.shape[1:], getattr(first, "dtype", "float32"), task)
    return Serving(model=model, contract=contract, trained=model, recorded=False)
