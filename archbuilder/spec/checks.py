"""Semantic checks of a schema-valid spec that need no backend.

Each check yields `(json_path, message)`; `spec.load.validate_spec` adds the file
name. The checks every spec gets are here (search spaces, tuning settings,
augmentation, losses); each family adds its own (`Family.checks`). Shape checks
(feature maps shrinking to 0, mirror decoders missing the input size, parameter
limits) live in the plan, which computes the shapes.
"""

from archbuilder.families import get_family
from archbuilder.format.checks import integer_input
from archbuilder.format.outputs import CLASSIFICATION_LOSSES
from archbuilder.format.schema.vocabulary import COSTS
from archbuilder.format.search_space import find
from archbuilder.format.search_space import is_repeat
from archbuilder.format.search_space import is_space
from archbuilder.format.search_space import iter_repeats
from archbuilder.format.search_space import iter_spaces
from archbuilder.format.search_space import resolve
from archbuilder.spec.normalize import concretize
from archbuilder.spec.normalize import loss_name
from archbuilder.spec.normalize import outputs
from archbuilder.spec.normalize import prediction

__all__ = ["check_document"]

MAX_REPEAT = 1000  # resolve() expands a repeat form into a list: a huge count must be refused first


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


def check_search(doc):
    """A list of objectives needs a training metric; pruning does not go with hyperband."""
    tuning = doc.get("tuning", {})
    objective = tuning.get("objective")
    if isinstance(objective, str) and objective in COSTS:
        yield "$.tuning.objective", (f"{objective} is a cost, not a training metric: list it with one, e.g. "
                                     f"[\"val_accuracy\", \"{objective}\"]")
    if isinstance(objective, list):
        names = [o if isinstance(o, str) else o["name"] for o in objective]
        for i, name in enumerate(names):
            if name in names[:i]:
                yield f"$.tuning.objective[{i}]", f"{name} is listed twice"
        if all(name in COSTS for name in names):
            yield "$.tuning.objective", ("a list of objectives needs a training metric (e.g. val_accuracy) "
                                         "besides costs")
    select = tuning.get("select")
    if isinstance(select, dict) and ("max" in select) == ("min" in select):
        yield "$.tuning.select", "give one of max or min: the metric best.json maximizes or minimizes"
    if tuning.get("pruning") and tuning.get("tuner") == "hyperband":
        yield "$.tuning.pruning", ("hyperband stops trials early itself; use pruning with the random, grid or "
                                   "bayesian tuner")


def check_augmentation(doc):
    """Augmentation transforms images; a model trained against its own input has its own rule (its family's)."""
    if not doc.get("training", {}).get("augmentation"):
        return
    if any(output.target == "input" for output in outputs(doc)):
        return
    if len(doc["input"]["shape"]) != 3:
        yield "$.training.augmentation", "augmentation applies to image inputs [height, width, channels]"


def check_losses(concrete):
    """The prediction layer and its loss must fit: units, activation, from_logits."""
    output = prediction(concrete)
    if output is None or output.units is None:
        return
    loss, path = output.loss, output.loss_path
    name = loss_name(loss)
    from_logits = isinstance(loss, dict) and loss.get("from_logits")
    units, activation = output.units, output.activation
    if name in ("sparse_categorical_crossentropy", "categorical_crossentropy") and units == 1:
        yield path, f"{name} needs one output unit per class; with 1 unit use binary_crossentropy"
    if name == "binary_crossentropy" and activation == "softmax" and units > 1:
        yield path, ("binary_crossentropy with a softmax output cannot train: use sigmoid outputs (multi-label) "
                     "or sparse_categorical_crossentropy")
    if name in CLASSIFICATION_LOSSES and from_logits and activation != "linear":
        yield path, f"from_logits expects a linear output, not {activation!r}"
    if name in CLASSIFICATION_LOSSES and not from_logits and activation in ("linear", "relu"):
        yield path, f"{name} on a {activation!r} output needs \"from_logits\": true (or a softmax/sigmoid output)"


def check_input_dtype(doc, family):
    """An integer input reaches the first layer as integers: only an embedding reads them."""
    if integer_input(doc) and not family.reads_integers(doc):
        dtype = doc["input"]["dtype"]
        yield "$.input.dtype", (f"the first layer of this {doc['family']} model cannot take {dtype} values (only "
                                "an embedding reads integers); leave input.dtype at float32: 8-bit images are "
                                "read as uint8 and divided by 255 into float32 all the same")


def check_document(doc):
    """All semantic problems of a schema-valid spec, as `(path, message)` pairs."""
    problems = list(check_structure(doc))
    if problems:  # the other checks resolve the spec, which needs every space at the top of its value
        return problems
    family = get_family(doc["family"])
    problems = (list(check_spaces(doc)) + list(check_search(doc)) + list(check_input_dtype(doc, family))
                + list(family.checks(doc)) + list(check_augmentation(doc)))
    if not problems:
        concrete = concretize(resolve(doc))
        problems += list(check_losses(concrete)) + list(family.concrete_checks(concrete))
    return problems
