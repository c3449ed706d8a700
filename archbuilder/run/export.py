"""`archbuilder export`: a trained model as a SavedModel, ONNX or LiteRT file, checked before it is kept.

The artifact is the served model (`archbuilder.model.serving`): it takes the same raw
inputs as the `.keras` file, preprocessing included, with a dynamic batch axis. It is
written under a temporary name beside PATH, loaded in its own runtime (TensorFlow,
onnxruntime, the LiteRT interpreter), run on up to 256 samples of the run's own test
split (random inputs of the right shape and dtype for a bare `.keras`) and compared
with Keras: the largest absolute difference is reported, and an artifact off by more
than `tolerance` (`|artifact - keras| <= tolerance * (1 + |keras|)`, default 1e-4) is
deleted — nothing is left at PATH. A model trained in bfloat16 is exported in float32
(same weights) and checked against Keras in float32 at `tolerance`, and against the
bfloat16 model at 1e-2 (bfloat16 keeps 8 bits of mantissa: 0.4 % per rounding).

Every format is written by a TensorFlow-backend process: this one when Keras runs on
TensorFlow, else a child process (a `.keras` file loads on any backend); the artifact is
then checked against the caller's backend's predictions too. `labels.json` beside the
artifact holds the class names, the task, the feature columns and, per artifact, its
input and output names, shapes and dtypes.

Example:
    >>> archbuilder.export("runs/wine_mlp-20261201-101500", "onnx")
    {'path': 'runs/wine_mlp-20261201-101500/model.onnx', 'max_abs_diff': 2.9e-08, ...}
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from archbuilder.atomic import atomic_write_json
from archbuilder.errors import ArchbuilderError
from archbuilder.format import defaults as D
from archbuilder.layers.safe_load import load_model_safely
from archbuilder.model.serving import open_served
from archbuilder.run import export_formats as F
from archbuilder.run.inference import open_run
from archbuilder.run.inference import raw_test_split
from archbuilder.text import did_you_mean

__all__ = ["FORMATS", "TOLERANCE", "BFLOAT16_TOLERANCE", "MAX_SAMPLES", "export", "export_here", "default_output",
           "random_inputs", "main"]

FORMATS = D.EXPORT_FORMATS
TOLERANCE = D.EXPORT["tolerance"]
BFLOAT16_TOLERANCE = D.EXPORT["bfloat16_tolerance"]
MAX_SAMPLES = D.EXPORT["max_samples"]
LABELS = "labels.json"


def default_output(model_path, fmt):
    """`model.onnx`, `model.tflite` or the folder `model_saved_model` beside the `.keras` file."""
    return os.path.splitext(model_path)[0] + F.FORMATS[fmt]


def random_inputs(contract, trained, count=MAX_SAMPLES, seed=0):
    """`count` random raw inputs of the contract's shape and dtype (token ids below the smallest vocabulary)."""
    rng = np.random.default_rng(seed)
    shape, fixed = contract["input"]["shape"], contract["trained_input"]["shape"]
    fill = fixed if len(fixed) == len(shape) else [8] * len(shape)
    shape = [d if d is not None else (f or 8) for d, f in zip(shape, fill)]
    dtype = np.dtype("float32" if contract["input"]["dtype"] == "bfloat16" else contract["input"]["dtype"])
    if dtype == np.uint8:
        return rng.integers(0, 256, [count] + shape).astype(np.uint8)
    if dtype.kind in "iu":
        vocab = [layer.input_dim for layer in F.layers_of(trained) if hasattr(layer, "input_dim")]
        return rng.integers(0, min(vocab) if vocab else 2, [count] + shape).astype(dtype)
    return rng.normal(size=[count] + shape).astype(dtype)


def _as_outputs(value):
    if isinstance(value, dict):
        return {key: np.asarray(v, np.float32) for key, v in value.items()}
    return {"output_0": np.asarray(value, np.float32)}


def _difference(got, expected, tolerance):
    """`(largest absolute difference, over tolerance?)` of the artifact's outputs against Keras's."""
    worst, over = 0.0, False
    for name, want in expected.items():
        have = got[name] if name in got else got[sorted(got)[list(expected).index(name)]]
        have, want = np.asarray(have, np.float64), np.asarray(want, np.float64).reshape(np.shape(have))
        gap = np.abs(have - want)
        worst = max(worst, float(gap.max(initial=0.0)))
        over = over or bool((gap > tolerance * (1.0 + np.abs(want))).any()) or not np.isfinite(have).all()
    return worst, over


def _publish(tmp, output, overwrite):
    """Moves the checked artifact to `output`; an old one (with `overwrite`) is replaced only now."""
    old = None
    if os.path.lexists(output) and overwrite:
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(output)}.old.", dir=os.path.dirname(output) or ".")
        os.rename(output, os.path.join(old, "artifact"))
    os.rename(tmp, output)
    if old:
        F.remove(old)


def export_here(model, fmt, output, x, tolerance=TOLERANCE, overwrite=False, source=None, references=None):
    """Exports in this (TensorFlow-backend) process; `archbuilder.export` calls it here or in a child.

    Args:
        model: the served `keras.Model`, or the path of its `.keras` file.
        fmt: `saved_model`, `onnx` or `litert`.
        output: where the artifact goes (its folder exists).
        x: the raw inputs to check on.
        tolerance: see the module docstring.
        overwrite: replace an artifact at `output`.
        source: the model's name in messages.
        references: `{label: {output name: array}}`: more Keras predictions on `x` to check against
            (the caller's backend's).

    Returns:
        A JSON-able dict: `path`, `format`, `max_abs_diff`, `differences`, `tolerance`, `notes`,
        `inputs`, `outputs`.

    Raises:
        ArchbuilderError: one line naming the format, the backend and the layer, or the difference found.
    """
    if isinstance(model, str):
        source = source or model
        model = load_model_safely(model)
    source = source or model.name
    serving = open_served(model, source=source)
    tmp = os.path.join(os.path.dirname(os.path.abspath(output)),
                       f".{os.path.basename(output)}.{os.getpid()}.tmp{F.FORMATS[fmt] if fmt != 'saved_model' else ''}")
    prepared = model
    try:
        prepared, notes = F.prepare(model, fmt, serving.contract, source)
        expected = _as_outputs(prepared.predict(x, verbose=0))
        checks = {"keras (tensorflow)": (expected, tolerance)}
        if notes:
            low = "float32" in notes
            label = "keras (tensorflow, bfloat16)" if low else "keras (tensorflow, as trained)"
            checks[label] = (_as_outputs(model.predict(x, verbose=0)), BFLOAT16_TOLERANCE if low else tolerance)
        for label, outputs in (references or {}).items():
            checks[label] = (outputs, BFLOAT16_TOLERANCE if "float32" in notes else tolerance)
        F.write_artifact(prepared, fmt, tmp)
        artifact = F.Artifact(fmt, tmp)
        got, one = artifact(x), artifact(x[:1])  # a dynamic batch axis: batches of N and of 1
        inputs, outputs = artifact.inputs, artifact.outputs
        del artifact  # a SavedModel's variables stay open while it lives
    except Exception as e:  # converters and runtimes raise many types; each becomes one line
        F.remove(tmp)
        raise F.export_error(e, fmt, prepared, source) from e
    differences, failed = {}, []
    for label, (want, limit) in checks.items():
        differences[label], over = _difference(got, want, limit)
        if over:
            failed.append((label, differences[label], limit))
    differences["batch of 1"], over = _difference(one, {k: v[:1] for k, v in expected.items()}, tolerance)
    if over:
        failed.append(("batch of 1", differences["batch of 1"], tolerance))
    if failed:
        F.remove(tmp)
        label, gap, limit = failed[0]
        raise F.ExportError(f"{source}: {fmt}: the exported model differs from {label} by up to {gap:.3g} on "
                            f"{len(x)} samples, over the tolerance {limit:g}; nothing was written")
    _publish(tmp, output, overwrite)
    return {"path": output, "format": fmt, "max_abs_diff": differences["keras (tensorflow)"],
            "differences": differences, "tolerance": tolerance, "notes": notes, "inputs": inputs,
            "outputs": outputs}


def _export_in_tensorflow(model_file, fmt, output, x, tolerance, overwrite, source, backend, reference):
    """Runs `export_here` in a TensorFlow-backend child process; its one-line error becomes ours."""
    import archbuilder

    with tempfile.TemporaryDirectory() as work:
        samples = os.path.join(work, "samples.npz")
        np.savez(samples, x=x, **{f"ref:{k}": v for k, v in reference.items()})
        request = {"model": model_file, "format": fmt, "output": output, "tolerance": tolerance,
                   "overwrite": overwrite, "source": source, "samples": samples, "reference": f"keras ({backend})",
                   "answer": os.path.join(work, "answer.json")}
        with open(os.path.join(work, "request.json"), "w", encoding="utf-8") as f:
            json.dump(request, f)
        root = os.path.dirname(os.path.dirname(os.path.abspath(archbuilder.__file__)))
        env = {**os.environ, "KERAS_BACKEND": "tensorflow",
               "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        done = subprocess.run([sys.executable, "-m", "archbuilder.run.export", os.path.join(work, "request.json")],
                              env=env, capture_output=True, text=True, check=False)
        if not os.path.exists(request["answer"]):
            last = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
            raise ArchbuilderError(f"{source}: cannot export to {fmt}: the TensorFlow process failed "
                                   f"(exit {done.returncode}): {last}")
        with open(request["answer"], encoding="utf-8") as f:
            answer = json.load(f)
    if "error" in answer:
        raise F.ExportError(answer["error"])
    return answer["result"]


def _labels(loaded, output, fmt, result):
    """labels.json beside the artifact: the model's classes and contract, and each artifact's inputs and outputs."""
    contract = loaded.serving.contract
    path = os.path.join(os.path.dirname(os.path.abspath(output)), LABELS)
    document = {"model": os.path.basename(loaded.model_path), "task": contract.get("task"),
                **{k: contract.get(k) for k in ("class_names", "one_hot", "features", "target", "image_size",
                                                "color_mode")},
                "preprocessing": contract.get("preprocessing"), "artifacts": {}}
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                existing = json.load(f)
        except (OSError, ValueError):
            existing = None
        same = isinstance(existing, dict) and all(existing.get(k) == v for k, v in document.items() if k != "artifacts")
        if not same:
            return path, None
        document["artifacts"] = existing.get("artifacts") or {}
    if result is not None:
        document["artifacts"][os.path.basename(output)] = {"format": fmt, "inputs": result["inputs"],
                                                          "outputs": result["outputs"]}
    return path, document


def _check_replaceable(output, fmt, overwrite):
    """An existing `output` is replaced only with `overwrite`, and only when it is an artifact of that kind."""
    if not overwrite:
        raise ArchbuilderError(f"{output}: exists; pass --overwrite to replace it")
    folder = os.path.isdir(output) and not os.path.islink(output)
    if fmt == "saved_model" and not (folder and os.path.exists(os.path.join(output, "saved_model.pb"))):
        raise ArchbuilderError(f"{output}: exists and is not a SavedModel folder; --overwrite replaces only one")
    if fmt != "saved_model" and folder:
        raise ArchbuilderError(f"{output}: is a folder; --overwrite replaces only a file")


def export(run, format, output=None, *, data=None, tolerance=TOLERANCE, overwrite=False):
    """Exports a trained model to `saved_model`, `onnx` or `litert`, checked in its own runtime.

    Args:
        run: a run directory (train, compare or tune) or a `.keras` file.
        format: `saved_model` (a TensorFlow SavedModel folder), `onnx` or `litert` (a `.tflite` file).
        output: the artifact's path (default beside the model: `model.onnx`, `model.tflite`,
            `model_saved_model/`); `labels.json` goes beside it.
        data: the data to check on (default: the run's test split; random inputs for a bare file).
        tolerance: see the module docstring.
        overwrite: replace an artifact already at `output`.

    Returns:
        A dict: `path`, `labels`, `format`, `samples`, `checked_on`, `max_abs_diff` (against Keras on
        TensorFlow), `differences` (against each Keras run checked), `tolerance`, `notes`, `inputs`, `outputs`.

    Raises:
        ArchbuilderError: an unknown format, an output in the way, an unsupported layer or
            format (naming the format, backend and layer), or an artifact that differs from Keras.
    """
    import keras

    if format not in F.FORMATS:
        raise ArchbuilderError(f"unknown export format {format!r}{did_you_mean(format, FORMATS)}; "
                               f"expected one of {', '.join(FORMATS)}")
    loaded = open_run(run)
    source = loaded.model_path
    output = os.fspath(output) if output else default_output(source, format)
    if os.path.abspath(output) == os.path.abspath(source):
        raise ArchbuilderError(f"{output}: is the model itself; export to another path")
    if os.path.lexists(output):
        _check_replaceable(output, format, overwrite)
    labels_path, document = _labels(loaded, output, format, None)
    if document is None:
        raise ArchbuilderError(f"{labels_path}: describes another model; export into another folder")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    x, checked_on = _samples(loaded, data)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        result = export_here(loaded.model, format, output, x, tolerance, overwrite, source)
    else:
        reference = _as_outputs(loaded.model.predict(x, verbose=0))
        with tempfile.TemporaryDirectory() as work:
            model_file = source
            if loaded.in_memory:  # a 0.1.0 run: its preprocessing layers were added in memory
                model_file = os.path.join(work, "served.keras")
                loaded.model.save(model_file)
            result = _export_in_tensorflow(model_file, format, output, x, tolerance, overwrite, source, backend,
                                           reference)
    _, document = _labels(loaded, output, format, result)
    atomic_write_json(labels_path, document)
    return {**result, "labels": labels_path, "samples": int(len(x)), "checked_on": checked_on}


def _samples(loaded, data):
    """`(x, what)`: up to MAX_SAMPLES raw inputs of `data`'s (else the run's) test split, else random ones.

    Raises:
        DataError: `data` was given and cannot be read. The run's own data that is gone (moved,
            another machine) only makes the check fall back to random inputs, said on stderr.
    """
    serving = loaded.serving
    if data is not None:
        x, _, where = raw_test_split(loaded, data)
        return x[:MAX_SAMPLES], f"test samples of {where}"
    recorded = (loaded.concrete or {}).get("data")
    if recorded is not None:
        try:
            x, _, where = raw_test_split(loaded, recorded)
            return x[:MAX_SAMPLES], f"test samples of {where}"
        except ArchbuilderError as e:
            print(f"{loaded.model_path}: the run's test data cannot be read ({e}); checking on random inputs",
                  file=sys.stderr)
    return random_inputs(serving.contract, serving.trained), "random inputs"


def main(argv=None):
    """`python -m archbuilder.run.export REQUEST.json`: the TensorFlow-backend child of `export`."""
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as f:
        request = json.load(f)
    arrays = np.load(request["samples"])
    reference = {key[len("ref:"):]: arrays[key] for key in arrays.files if key.startswith("ref:")}
    try:
        result = export_here(request["model"], request["format"], request["output"], arrays["x"],
                             request["tolerance"], request["overwrite"], request["source"],
                             {request["reference"]: reference})
        answer = {"result": result}
    except ArchbuilderError as e:
        answer = {"error": str(e)}
    atomic_write_json(request["answer"], answer)


if __name__ == "__main__":
    main()
