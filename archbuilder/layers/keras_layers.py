"""Archbuilder's own Keras layers, registered for `load_model(..., safe_mode=True)`.

Importing this module registers every archbuilder layer under the `archbuilder`
package name; `import archbuilder` does it as soon as Keras is imported. No
layer here runs user code: each is a fixed computation with JSON-able config.
"""

import importlib
import json

import keras

from archbuilder.layers.penalties import ActivityL1
from archbuilder.layers.penalties import ContractiveDense
from archbuilder.layers.penalties import ContractivePenalty
from archbuilder.layers.penalties import KLSparsity

__all__ = ["ActivityL1", "ApplicationPreprocess", "ContractiveDense", "ContractivePenalty", "InputContract",
           "KLSparsity"]


def preprocess_function(application):
    """The `preprocess_input` of a `keras.applications` model class, by its name.

    Args:
        application: a class name such as `"MobileNetV2"` or `"ResNet50"`.

    Returns:
        The function from the application's own module.

    Raises:
        ValueError: when `application` is not in `keras.applications`.
    """
    constructor = getattr(keras.applications, application, None)
    if constructor is None or not callable(constructor):
        raise ValueError(f"keras.applications has no model named {application!r}")
    return importlib.import_module(constructor.__module__).preprocess_input


@keras.saving.register_keras_serializable(package="archbuilder")
class ApplicationPreprocess(keras.layers.Layer):
    """Applies a `keras.applications` model's own `preprocess_input` inside the model.

    A named layer rather than a `Lambda`, so the saved model reloads with
    `safe_mode=True` and reads as what it is.

    Args:
        application: the `keras.applications` class name, e.g. `"MobileNetV2"`.
    """

    def __init__(self, application, **kwargs):
        super().__init__(**kwargs)
        self.application = application
        self._preprocess = preprocess_function(application)

    def call(self, inputs):
        return self._preprocess(_as_float(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "application": self.application}


def _as_float(inputs):
    """Casts integer image batches to the compute dtype; float batches pass through."""
    if "int" in keras.backend.standardize_dtype(inputs.dtype):
        return keras.ops.cast(inputs, keras.config.floatx())
    return inputs


@keras.saving.register_keras_serializable(package="archbuilder")
class InputContract(keras.layers.Layer):
    """The first layer of every model archbuilder saves: it passes its input on unchanged.

    Its config carries what the model takes and predicts — the raw sample shape and
    dtype, the feature columns in order, the class names, the task, the image size and
    color mode (`archbuilder.data.preprocessing.input_contract`) — so a bare `.keras`
    file is self-describing. It computes nothing, so exported graphs are unaffected.

    Args:
        contract: a JSON-able dict.
    """

    def __init__(self, contract, **kwargs):
        super().__init__(**kwargs)
        self.contract = json.loads(json.dumps(contract))  # plain JSON: what the file will hold

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "contract": self.contract}
