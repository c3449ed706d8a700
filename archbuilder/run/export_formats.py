"""The TensorFlow side of `archbuilder export`: write an artifact, run it in its own runtime, compare.

Every format is written from a TensorFlow-backend process (`archbuilder.run.export`
starts one when the caller runs another backend): a `.keras` file loads on any
backend, and TensorFlow is the one backend that writes all three formats.

- `saved_model`: `model.export(format="tf_saved_model")`, run with `tf.saved_model.load`.
- `onnx`: that SavedModel converted by tf2onnx's saved-model loader (Keras's own ONNX
  path turns `Normalization`'s constants into extra graph inputs), run with onnxruntime.
- `litert`: `model.export(format="litert")` with TFLite's builtin operators only, so an
  operator LiteRT cannot run fails here rather than on a device; recurrent layers are
  unrolled over the training data's number of steps first (their loop would need
  TensorFlow's own ops). Run with `ai_edge_litert`'s interpreter.

Before export, a model trained in bfloat16 is rebuilt in float32 with the same weights
(ONNX Runtime and LiteRT have no bfloat16 kernels for these layers).
"""

import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np

from archbuilder.errors import ArchbuilderError
from archbuilder.format import defaults as D

__all__ = ["FORMATS", "PACKAGES", "ExportError", "ConverterFailed", "Artifact", "layers_of", "prepare",
           "write_artifact", "layer_named_in", "export_error", "remove"]

FORMATS = dict(zip(D.EXPORT_FORMATS, ("_saved_model", ".onnx", ".tflite")))  # format -> suffix of the default path
PACKAGES = {"saved_model": (), "onnx": ("tf2onnx", "onnx", "onnxruntime"), "litert": ("ai_edge_litert",)}
RNN_CLASSES = {"SimpleRNN", "LSTM", "GRU"}
LOW_PRECISION = {"bfloat16", "mixed_bfloat16", "float16", "mixed_float16"}


class ExportError(ArchbuilderError):
    """An export that cannot be done or did not verify; one line."""


def _walk(config, visit):
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            visit(value)
            stack.extend(v for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, (dict, list)))


def layers_of(model):
    """Every layer of a model, nested models' layers included, depth first."""
    import keras

    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found += layers_of(layer)
        inner = getattr(layer, "forward_layer", None)  # Bidirectional
        if inner is not None:
            found += [inner, layer.backward_layer]
    return found


def _fixed_shape(batch_shape, shapes):
    """`batch_shape` with its open axes taken from the first of `shapes` that fits it, or None."""
    for shape in shapes:
        if len(shape) == len(batch_shape) - 1 and all(a is None or a == b for a, b in zip(batch_shape[1:], shape)):
            return [batch_shape[0]] + list(shape)
    return None


def _float32(config):
    """Rewrites every bfloat16 / float16 dtype policy of a model config to float32; True if there was one."""
    found = []

    def visit(obj):
        dtype = obj["config"].get("dtype") if isinstance(obj.get("config"), dict) else None
        if isinstance(dtype, dict) and dtype.get("config", {}).get("name") in LOW_PRECISION:
            dtype["config"]["name"] = "float32"
            found.append(obj)
        elif isinstance(dtype, str) and dtype in LOW_PRECISION:
            obj["config"]["dtype"] = "float32"
            found.append(obj)

    _walk(config, visit)
    return bool(found)


def _unrolled(config, contract):
    """Sets `unroll` on every RNN of a model config and fixes open input axes; returns the inputs left open."""
    shapes = [s for s in (contract["input"]["shape"], contract["trained_input"]["shape"]) if None not in s]
    open_inputs = []

    def visit(obj):
        if obj.get("class_name") in RNN_CLASSES:
            obj["config"]["unroll"] = True
        if obj.get("class_name") == "InputLayer" and None in obj["config"]["batch_shape"][1:]:
            fixed = _fixed_shape(obj["config"]["batch_shape"], shapes)
            if fixed is None:
                open_inputs.append(list(obj["config"]["batch_shape"][1:]))
            obj["config"]["batch_shape"] = fixed or obj["config"]["batch_shape"]

    _walk(config, visit)
    return open_inputs


def prepare(model, fmt, contract, source):
    """The model to export: float32, called once, RNNs unrolled for LiteRT. Returns `(model, notes)`.

    Raises:
        ExportError: LiteRT of a recurrent layer over a variable number of steps that no training data fixed.
    """
    config = model.get_config()
    notes = ["float32"] if _float32(config) else []
    rnns = [layer for layer in layers_of(model) if type(layer).__name__ in RNN_CLASSES]
    if fmt == "litert" and rnns:
        open_inputs = _unrolled(config, contract)
        if open_inputs:
            raise ExportError(f"{source}: cannot export to litert (tensorflow backend): layer {rnns[0].name!r} "
                              f"({type(rnns[0]).__name__}) runs over a variable number of steps (input.shape "
                              f"{json.dumps(open_inputs[0])}), which LiteRT's builtin operators cannot loop over; "
                              "export saved_model or onnx, or train with a fixed input.shape")
        notes.append("recurrent layers unrolled")
    if notes:
        import keras

        rebuilt = keras.Model.from_config(config)
        rebuilt.set_weights(model.get_weights())
        model = rebuilt
    first = model.inputs[0]
    shape = [d if d is not None else 1 for d in first.shape[1:]]
    model(np.zeros([1] + shape, dtype=_numpy_dtype(first.dtype)))  # exporters want a model that was called
    return model, notes


def _numpy_dtype(name):
    name = str(name)
    return np.float32 if "bfloat16" in name else np.dtype(name)


# ---------------------------------------------------------------- write


def _savedmodel_to_onnx(folder, path):
    from archbuilder import compat

    import tensorflow as tf

    loader = compat.tf2onnx_loader
    graph_def, inputs, outputs, tables, renames = loader.from_saved_model(
        folder, None, None, tag="serve", signatures=["serving_default"], return_initialized_tables=True,
        return_tensors_to_rename=True)
    with tf.device("/cpu:0"):
        compat.tf2onnx_convert_common(graph_def, name="archbuilder", opset=None, input_names=inputs,
                                      output_names=outputs, tensors_to_rename=renames, initialized_tables=tables,
                                      output_path=path)


class ConverterFailed(Exception):
    """A converter's exception, with what the converter printed meanwhile (where it names ops and layers)."""

    def __init__(self, error, log):
        super().__init__(str(error))
        self.error, self.log = error, log


@contextlib.contextmanager
def _converter_output(log):
    """Collects what converters print — Keras's "Saved artifact", tf2onnx's log lines, TFLite's MLIR
    diagnostics, written by C++ to file descriptor 2 — into `log` instead of the user's terminal."""
    import logging

    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            logger.setLevel(level)
            capture.seek(0)
            log.append(capture.read().decode("utf-8", "replace"))


def write_artifact(model, fmt, path):
    """Writes `model` as `fmt` at `path` (which must not exist).

    Raises:
        ConverterFailed: the converter raised, or (tf2onnx) left operators it cannot convert.
    """
    log = []
    try:
        with _converter_output(log):
            if fmt == "saved_model":
                model.export(path, format="tf_saved_model", verbose=False)
            elif fmt == "onnx":
                with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as folder:
                    model.export(os.path.join(folder, "sm"), format="tf_saved_model", verbose=False)
                    _savedmodel_to_onnx(os.path.join(folder, "sm"), path)
            else:
                import tensorflow as tf

                model.export(path, format="litert", verbose=False,
                             target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]})
    except Exception as e:  # noqa: BLE001  (every converter error is reported with its log)
        raise ConverterFailed(e, "".join(log)) from e
    unsupported = re.search(r"Unsupported ops: Counter\(\{([^}]*)\}\)", "".join(log))
    if unsupported:  # tf2onnx writes a graph it knows to be invalid; refuse it here, by name
        raise ConverterFailed(RuntimeError(f"tf2onnx cannot convert {unsupported.group(1)}"), "".join(log))


# ---------------------------------------------------------------- run


def _size(d):
    """An axis size as a runtime reports it (`None`, `-1`, `'unk__7'` for an open axis) -> int or None."""
    try:
        return int(d) if d is not None and int(d) >= 0 else None
    except (TypeError, ValueError):
        return None


def _spec(name, shape, dtype):
    return {"name": name, "shape": [_size(d) for d in shape], "dtype": str(dtype)}


_ONNX_TYPES = {"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(int32)": "int32",
               "tensor(int64)": "int64", "tensor(double)": "float64"}


class Artifact:
    """An exported artifact loaded in its own runtime: TensorFlow, onnxruntime or the LiteRT interpreter.

    Attributes:
        inputs, outputs: `[{"name", "shape", "dtype"}]` as the runtime reports them (`None`: a dynamic axis).
    """

    def __init__(self, fmt, path):
        self.fmt = fmt
        if fmt == "saved_model":
            import tensorflow as tf

            self._loaded = tf.saved_model.load(path)  # the signature needs the object alive
            self._run = self._loaded.signatures["serving_default"]
            signature = self._run.structured_input_signature[1]
            self.inputs = [_spec(k, v.shape, v.dtype.name) for k, v in signature.items()]
            self.outputs = [_spec(k, v.shape, v.dtype.name) for k, v in sorted(self._run.structured_outputs.items())]
        elif fmt == "onnx":
            import onnxruntime

            self._run = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            self.inputs = [_spec(i.name, i.shape, _ONNX_TYPES.get(i.type, i.type)) for i in self._run.get_inputs()]
            self.outputs = [_spec(o.name, o.shape, _ONNX_TYPES.get(o.type, o.type)) for o in self._run.get_outputs()]
        else:
            from ai_edge_litert.interpreter import Interpreter

            self._run = Interpreter(model_path=path).get_signature_runner("serving_default")
            self.inputs, self.outputs = ([_spec(k, d["shape_signature"], np.dtype(d["dtype"]).name)
                                          for k, d in sorted(part.items())]
                                         for part in (self._run.get_input_details(), self._run.get_output_details()))

    def __call__(self, x):
        """The outputs on the batch `x`, as `{output name: float32 array}`."""
        name = self.inputs[0]["name"]
        if self.fmt == "saved_model":
            import tensorflow as tf

            outputs = {k: v.numpy() for k, v in self._run(**{name: tf.constant(x)}).items()}
        elif self.fmt == "onnx":
            outputs = dict(zip([o["name"] for o in self.outputs], self._run.run(None, {name: x})))
        else:
            outputs = self._run(**{name: x})
        return {key: np.asarray(value, np.float32) for key, value in outputs.items()}


# ---------------------------------------------------------------- errors


def layer_named_in(text, model):
    """The model's layer a converter message points at (through its TF name scopes), or None.

    Scopes read `graph_1/graph_1/conv_0_conv_1/Conv2D`: the innermost layer is named, not the nested graph.
    """
    import keras

    best = None
    for layer in layers_of(model):
        if not isinstance(layer, keras.Model) and re.search(rf"(?<![\w]){re.escape(layer.name)}(_\d+)?/", text):
            if best is None or len(layer.name) > len(best.name):
                best = layer
    return best


_OP_PATTERNS = (r"'tf\.(\w+)' op is neither a custom op nor a flex op", r"Unsupported ops: Counter\(\{'(\w+)'",
                r"No Op registered for (\w+)", r"Tensorflow op \[[^\]:]+: (\w+)\] is not supported")
_CONVERTERS = {"saved_model": "TensorFlow's SavedModel", "onnx": "tf2onnx / ONNX Runtime",
               "litert": "LiteRT's builtin operators"}


def export_error(e, fmt, model, source):
    """An exception of a converter or runtime as one line naming the format, the backend and the layer."""
    log = ""
    if isinstance(e, ConverterFailed):
        e, log = e.error, e.log
    if isinstance(e, ArchbuilderError):
        return e
    if isinstance(e, ImportError):
        needed = ", ".join(PACKAGES[fmt]) or "tensorflow"
        return ExportError(f"{source}: cannot export to {fmt}: it needs {needed} ({type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else e.name}); install them with "
                           "pip install 'archbuilder[export]'")
    text = f"{e} {log}"
    layer = layer_named_in(text, model)
    where = f"layer {layer.name!r} ({type(layer).__name__})" if layer is not None else "the model"
    op = next((m.group(1) for m in (re.search(p, text) for p in _OP_PATTERNS) if m), None)
    head = f"{source}: cannot export to {fmt} (tensorflow backend): {where}"
    if op:
        others = " or ".join(f for f in FORMATS if f != fmt)
        return ExportError(f"{head} needs the TensorFlow op {op}, which {_CONVERTERS[fmt]} cannot run; "
                           f"export {others}, or use another layer")
    first = " ".join(str(e).split())[:240] or type(e).__name__
    return ExportError(f"{head}: {type(e).__name__}: {first}")


def remove(path):
    """Deletes a file or folder if it is there."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)

