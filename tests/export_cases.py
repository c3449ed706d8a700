"""What the export tests and `bench/export_check.py` share: data that fits a spec, artifacts run in their runtimes."""

import numpy as np

STEPS = 4  # the sequence length of the token-id data (LiteRT unrolls each step of an RNN)


def random_data(doc, folder, overrides=(), steps=STEPS, n=40):
    """An .npz of `n` random samples that fit the spec's input (after `overrides`), labels for its output.

    Image inputs get raw uint8 pixels (reshaped to HxWx1 by the model), token inputs `steps` ids
    below the vocabulary, others float vectors far from unit scale (standardized: `"normalize": true`).
    """
    rng = np.random.default_rng(0)
    overrides = dict(overrides)
    shape = overrides.get("input.shape", doc["input"]["shape"])
    if doc["input"].get("dtype", "float32").startswith("int"):
        vocabulary = overrides.get("embedding.input_dim", doc["embedding"]["input_dim"])
        x = rng.integers(1, vocabulary, (n, steps)).astype(np.int32)
    elif len(shape) == 3:
        x = rng.integers(0, 256, (n, shape[0], shape[1]), dtype=np.uint8)
    else:
        x = (rng.normal(size=(n, int(np.prod(shape)))) * 30.0 + 5.0).astype(np.float32)
    units = (doc.get("head") or doc.get("output") or {}).get("units", 10)
    np.savez(folder / "data.npz", x=x, y=rng.integers(0, max(units, 2), n))
    return {"path": str(folder / "data.npz"), **({"normalize": True} if x.dtype == np.float32 else {})}


def in_runtime(fmt, path, x):
    """The artifact's main output (an autoencoder's head, else its only output) from its own runtime."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": x})))
    elif fmt == "litert":
        from ai_edge_litert.interpreter import Interpreter

        outputs = Interpreter(model_path=path).get_signature_runner("serving_default")(input=x)
    else:
        import tensorflow as tf

        loaded = tf.saved_model.load(path)
        outputs = {k: v.numpy() for k, v in loaded.signatures["serving_default"](input=tf.constant(x)).items()}
    return np.asarray(outputs.get("head", outputs.get("reconstruction", outputs.get("output_0"))))
