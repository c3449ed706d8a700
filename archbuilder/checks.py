"""Semantic checks of a schema-valid spec that need no backend (design.md 1, issue 2).

Each check yields `(json_path, message)`; `spec.validate_spec` adds the file name.
Shape checks (feature maps shrinking to 0, mirror decoders missing the input size,
parameter limits) live in `plan`, which computes the shapes.
"""

from archbuilder.normalize import CLASSIFICATION_LOSSES
from archbuilder.normalize import concretize
from archbuilder.search_space import find
from archbuilder.search_space import is_repeat
from archbuilder.search_space import is_space
from archbuilder.search_space import iter_repeats
from archbuilder.search_space import iter_spaces
from archbuilder.search_space import resolve

__all__ = ["check_document"]

ELEMENTWISE = {"relu", "sigmoid", "tanh", "linear", "elu", "softplus", "swish", "silu", "leaky_relu", "gelu",
               "selu", "softsign", "relu6", "hard_sigmoid", "exponential", "mish", "hard_swish"}
MAX_REPEAT = 1000  # resolve() expands a repeat form into a list: a huge count must be refused first
UNSIZED_LAST_AXIS = ("the last axis (features or channels) needs a size, not null: the first layer's weights "
                     "depend on it")


def _json_type(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def _nested(value, path):
    """Yields the path of every search space or repeat form inside `value` (a choice value)."""
    for where, _ in find(value, path, lambda node: is_space(node) or is_repeat(node)):
        yield where


def check_structure(doc):
    """Search spaces nested in a choice's values: resolve() would leave them unresolved.

    The schema lets a choice value be any plain value of its key, and a plain pool
    object or a list of units may hold spaces of their own; spec_version 1 resolves
    one level, so each choice value must be concrete.
    """
    for path, space in iter_spaces(doc):
        kind, body = next(iter(space.items()))
        if kind == "choice":
            for i, value in enumerate(body):
                for inner in _nested(value, f"{path}.choice[{i}]"):
                    yield inner, ("a choice value cannot contain another search space (or repeat form): list "
                                  "the concrete values instead")
                    break


def _possible(value):
    """The values a spec value may take: a choice's values, a range's ends, both booleans, or itself."""
    if not is_space(value):
        return [value]
    kind, body = next(iter(value.items()))
    if kind == "choice":
        return list(body)
    if kind == "bool":
        return [False, True]
    return [body.get("min"), body.get("max")]


def check_spaces(doc):
    for path, space in iter_spaces(doc):
        kind, body = next(iter(space.items()))
        if kind == "choice":
            types = {_json_type(v) for v in body} - {None}
            if len(types) > 1:
                yield f"{path}.choice", (f"choice values must all be of one JSON type (or null); got "
                                         f"{', '.join(sorted(types))}")
            if len(set(map(repr, body))) < len(body):
                yield f"{path}.choice", "choice values must be distinct"
        elif kind in ("int", "float"):
            low, high = body["min"], body["max"]
            if low > high:
                yield f"{path}.{kind}", f"min {low} is greater than max {high}"
            if "default" in body and not low <= body["default"] <= high:
                yield f"{path}.{kind}.default", f"default {body['default']} is outside [{low}, {high}]"
            if body.get("sampling") in ("log", "reverse_log") and low <= 0:
                yield f"{path}.{kind}.sampling", f"{body['sampling']} sampling needs min > 0, got {low}"
            if body.get("step") and body["step"] <= 0:
                yield f"{path}.{kind}.step", "step must be positive"
    for path, form in iter_repeats(doc):
        count = form["repeat"]
        if is_space(count):
            kind, body = next(iter(count.items()))
            count = body["max"] if kind == "int" else max((c for c in body if isinstance(c, int)), default=0)
        if isinstance(count, int) and count > MAX_REPEAT:
            yield f"{path}.repeat", f"at most {MAX_REPEAT:,} repetitions; got {count:,}"
    tuning, training = doc.get("tuning", {}), doc.get("training", {})
    if tuning.get("tuner") == "hyperband":
        if is_space(training.get("epochs")):
            yield "$.training.epochs", "hyperband chooses the epochs of each trial; set tuning.max_epochs instead"
        if "max_trials" in tuning:
            yield "$.tuning.max_trials", "hyperband takes max_epochs, factor and hyperband_iterations, not max_trials"
    elif any(k in tuning for k in ("max_epochs", "factor", "hyperband_iterations")):
        key = next(k for k in ("max_epochs", "factor", "hyperband_iterations") if k in tuning)
        yield f"$.tuning.{key}", f"{key} applies only to tuner 'hyperband'"


def _items(value):
    if is_repeat(value):
        return [value["each"]]
    return value if isinstance(value, list) else []


def check_layers(doc):
    family = doc["family"]
    rank = len(doc["input"]["shape"])
    if family in ("cnn", "autoencoder") and doc["input"]["shape"][-1] is None:
        yield "$.input.shape", UNSIZED_LAST_AXIS
    if family == "cnn":
        if doc.get("conv") and _items(doc["conv"]) and not doc.get("backbone") and rank not in (2, 3, 4):
            yield "$.input.shape", (f"conv layers need [length, channels], [height, width, channels] or "
                                    f"[depth, height, width, channels]; got {rank} axes (e.g. use [40, 1] "
                                    f"instead of [40])")
        if doc.get("backbone") and rank != 3:
            yield "$.backbone", "a backbone takes image inputs [height, width, channels]"
    if family == "rnn":
        integer = doc["input"].get("dtype", "float32").startswith(("int", "uint"))
        if doc.get("embedding") and not integer:
            yield "$.embedding", 'an embedding reads token ids: set "input": {"dtype": "int32"}'
        expected = 1 if doc.get("embedding") else 2
        if rank != expected:
            what = "[steps] of token ids" if expected == 1 else "[steps, features]"
            yield "$.input.shape", f"an rnn input is {what}; got {rank} axes"
        elif not doc.get("embedding") and doc["input"]["shape"][-1] is None:
            yield "$.input.shape", UNSIZED_LAST_AXIS
        if doc.get("sequence_pool") is not None and not doc["rnn"].get("return_sequences", False):
            yield "$.sequence_pool", "sequence_pool applies only when rnn.return_sequences is true"
    if family == "autoencoder":
        yield from check_autoencoder(doc, rank)
    if family == "custom":
        yield from check_graph(doc["layers"])
    if doc.get("training", {}).get("augmentation"):
        if family == "autoencoder":
            # The builder would augment the input only, and the reconstruction target with it.
            yield "$.training.augmentation", ("an autoencoder learns to reconstruct its input: augmenting the "
                                              "input alone would corrupt the target; remove augmentation "
                                              "(variant 'denoising' corrupts the input on purpose)")
        elif rank != 3:
            yield "$.training.augmentation", "augmentation applies to image inputs [height, width, channels]"


def check_autoencoder(doc, rank):
    encoder = _items(doc["encoder"])
    kinds = {"filters" in item for item in encoder}
    if len(kinds) > 1:
        yield "$.encoder", "encoder items are all dense ({\"units\"}) or all conv ({\"filters\"}), not mixed"
        return
    conv = kinds == {True}
    if conv and rank not in (2, 3, 4):
        yield "$.input.shape", "a conv encoder needs [length, channels] or [height, width, channels] inputs"
    if not conv and None in doc["input"]["shape"][:-1]:
        yield "$.input.shape", "a dense autoencoder reconstructs every input value: give every axis a size"
    if not conv and not doc.get("bottleneck"):
        yield "$", "missing required key 'bottleneck' (a dense encoder needs the code size: {\"units\": 32})"
    if isinstance(doc.get("decoder"), (list, dict)):
        for i, item in enumerate(_items(doc["decoder"])):
            if ("filters" in item) != conv:
                yield f"$.decoder[{i}]", f"decoder items must be {'conv' if conv else 'dense'} like the encoder's"
    variants = _possible(doc.get("variant", "plain"))
    needs = {"sparse": "sparsity", "contractive": "contractive", "denoising": "noise"}
    for name, key in needs.items():
        if name in variants and doc.get(key) is None:
            yield "$", f"variant '{name}' needs \"{key}\""
        if name not in variants and doc.get(key) is not None:
            yield f"$.{key}", f"{key} applies only to variant '{name}' (this spec is {_short(variants)})"
    default_activation = doc.get("activation", "relu")
    code_activation = (doc.get("bottleneck") or {}).get("activation", default_activation)
    codes = set(_possible(code_activation))
    if "sparse" in variants and "target" in (doc.get("sparsity") or {}) and codes - {"sigmoid"}:
        yield "$.sparsity.target", (f"KL sparsity compares mean activations with a target in (0, 1): the code "
                                    f"needs a sigmoid activation, not {_short(sorted(codes - {'sigmoid'}))} "
                                    "(set bottleneck.activation to \"sigmoid\")")
    if "contractive" in variants:
        if conv:
            yield "$.variant", ("the contractive penalty is computed exactly for dense encoders; use a dense "
                                "encoder or variant 'denoising'")
        for i, item in enumerate(encoder):
            if any(_possible(item.get("batch_norm"))) or any(_possible(item.get("dropout"))):
                yield f"$.encoder[{i}]", "a contractive encoder has no batch_norm or dropout (the Jacobian " \
                                         "would depend on the batch)"
            if set(_possible(item.get("activation", default_activation))) - ELEMENTWISE:
                where = f"$.encoder[{i}].activation" if "activation" in item else "$.activation"
                yield where, "the contractive penalty needs an elementwise activation"
        if codes - ELEMENTWISE:
            where = "$.bottleneck.activation" if "activation" in (doc.get("bottleneck") or {}) else "$.activation"
            yield where, "the contractive penalty needs an elementwise activation"


def _short(values):
    text = ", ".join(map(repr, values))
    return text if len(text) <= 80 else text[:77] + "..."


def check_graph(layers):
    names = {}
    for i, layer in enumerate(layers):
        inputs = layer.get("inputs")
        for name in ([inputs] if isinstance(inputs, str) else inputs or []):
            if name != "input" and name not in names:
                later = [j for j, other in enumerate(layers) if other.get("name") == name]
                why = f"it is defined later, at $.layers[{later[0]}]" if later else "no layer has that name"
                yield f"$.layers[{i}].inputs", f"unknown layer {name!r}: {why}"
        name = layer.get("name")
        if name is not None:
            if name == "input":
                yield f"$.layers[{i}].name", "'input' names the model input; choose another name"
            elif name in names:
                yield f"$.layers[{i}].name", f"duplicate name {name!r} (first used at $.layers[{names[name]}])"
            else:
                names[name] = i


def check_losses(doc):
    concrete = concretize(resolve(doc))
    family = concrete["family"]
    if family == "custom":
        return
    target = concrete["head"] if family == "autoencoder" else concrete["output"]
    if not target:
        return
    loss = target.get("loss") if family == "autoencoder" else concrete["training"]["loss"]
    path = "$.head.loss" if family == "autoencoder" else "$.training.loss"
    name = loss["type"] if isinstance(loss, dict) else loss
    from_logits = isinstance(loss, dict) and loss.get("from_logits")
    units, activation = target["units"], target["activation"]
    if name in ("sparse_categorical_crossentropy", "categorical_crossentropy") and units == 1:
        yield path, f"{name} needs one output unit per class; with 1 unit use binary_crossentropy"
    if name == "binary_crossentropy" and activation == "softmax" and units > 1:
        yield path, "binary_crossentropy with a softmax output cannot train: use sigmoid outputs (multi-label) " \
                    "or sparse_categorical_crossentropy"
    if name in CLASSIFICATION_LOSSES and from_logits and activation != "linear":
        yield path, f"from_logits expects a linear output, not {activation!r}"
    if name in CLASSIFICATION_LOSSES and not from_logits and activation in ("linear", "relu"):
        yield path, f"{name} on a {activation!r} output needs \"from_logits\": true (or a softmax/sigmoid output)"
    if family == "autoencoder":
        rec = concrete["training"]["loss"]
        rec = rec["type"] if isinstance(rec, dict) else rec
        if rec == "binary_crossentropy" and concrete["output"]["activation"] != "sigmoid":
            yield "$.training.loss", "binary_crossentropy reconstruction needs a sigmoid output"


def check_document(doc):
    """All semantic problems of a schema-valid spec, as `(path, message)` pairs."""
    problems = list(check_structure(doc))
    if problems:  # the other checks resolve the spec, which needs every space at the top of its value
        return problems
    problems = list(check_spaces(doc)) + list(check_layers(doc))
    if not problems:
        problems += list(check_losses(doc))
    return problems
