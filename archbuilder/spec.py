"""Load and validate specs: schema, then semantic checks, then the static plan.

Every problem of a file is collected and reported at once, one `SpecError` each
(`FILE: JSON-PATH: message`). Nothing here imports a backend.
"""

import copy
import difflib
import json
import os
import re

from jsonschema import Draft202012Validator

from archbuilder import defaults as D
from archbuilder.checks import check_document
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.jsonfile import parse_json
from archbuilder.jsonfile import read_json_file
from archbuilder.normalize import concretize
from archbuilder.normalize import fill_defaults
from archbuilder.plan import plan_spec
from archbuilder.schema import load_schema
from archbuilder.search_space import default_pick
from archbuilder.search_space import has_spaces
from archbuilder.search_space import resolve

__all__ = ["Spec", "load_spec", "render_spec", "validate_spec", "apply_overrides", "parse_override"]


class Spec:
    """A validated spec.

    Attributes:
        doc: the document as given (after `--set` overrides).
        source: the file name used in messages (`<spec>` for dicts).
        base_dir: the folder relative data paths are resolved against.
        plan: the static plan of the spec's default configuration.
    """

    def __init__(self, doc, source="<spec>", base_dir=".", plan=None):
        self.doc = doc
        self.source = source
        self.base_dir = base_dir
        self.plan = plan

    @property
    def name(self):
        return self.doc["name"]

    @property
    def family(self):
        return self.doc["family"]

    @property
    def has_spaces(self):
        return has_spaces(self.doc)

    def rendered(self):
        """The spec with every default filled in (what `archbuilder render` prints)."""
        return fill_defaults(self.doc)

    def concrete(self, pick=default_pick):
        """The concrete spec, each search space replaced by `pick(name, space)`."""
        return concretize(resolve(self.doc, pick))

    def __repr__(self):
        return f"Spec({self.name!r}, family={self.family!r}, source={self.source!r})"


# --- overrides ---------------------------------------------------------------

_TOKEN = re.compile(r"\.?([A-Za-z_][\w-]*)|\[(\d+)\]")


def parse_override(text):
    """`'training.epochs=3'` -> `(['training', 'epochs'], 3)`; the value is JSON, else a string."""
    if "=" not in text:
        raise SpecError("$", f"--set expects PATH=VALUE, got {text!r}", "--set")
    path, value = text.split("=", 1)
    path = path.strip().removeprefix("$").removeprefix(".")
    keys, pos = [], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m or (pos == 0 and path.startswith(".")):
            raise SpecError("$", f"--set: cannot read the path {path!r} (e.g. training.epochs or conv[0].filters)",
                            "--set")
        keys.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not keys:
        raise SpecError("$", f"--set: empty path in {text!r}", "--set")
    try:
        value = json.loads(value)
    except ValueError:
        pass
    return keys, value


def apply_overrides(doc, overrides, source="--set"):
    """Returns a copy of `doc` with each `PATH=VALUE` override applied."""
    doc = copy.deepcopy(doc)
    for text in overrides:
        keys, value = parse_override(text)
        node, path = doc, "$"
        for key, nxt in zip(keys, keys[1:] + [None]):
            step = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
            if nxt is None:
                if isinstance(key, int) and not (isinstance(node, list) and key < len(node)):
                    raise SpecError(step, f"--set: {path} has no item {key}", source)
                if not isinstance(key, int) and not isinstance(node, dict):
                    raise SpecError(path, f"--set: {path} is not an object", source)
                node[key] = value
            elif isinstance(key, int):
                if not isinstance(node, list) or key >= len(node):
                    raise SpecError(step, f"--set: {path} has no item {key}", source)
                node = node[key]
            else:
                if not isinstance(node, dict):
                    raise SpecError(path, f"--set: {path} is not an object", source)
                node = node.setdefault(key, [] if isinstance(nxt, int) else {})
            path = step
    return doc


# --- schema errors -------------------------------------------------------------


def _short(value, limit=60):
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _did_you_mean(word, options):
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _family_keys(key):
    schema = load_schema()
    families = []
    for branch in schema.get("allOf", []):
        family = branch.get("if", {}).get("properties", {}).get("family", {}).get("const")
        if family and key in branch.get("then", {}).get("properties", {}):
            families.append(family)
    return families


def _schema_error_lines(error, doc):
    """Yields `(path, message)` for one jsonschema error, in archbuilder's words."""
    path, kind, instance = error.json_path, error.validator, error.instance
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {}))
        for key in instance:
            if key in allowed or any(re.search(p, key) for p in error.schema.get("patternProperties", {})):
                continue
            hint = _did_you_mean(key, allowed)
            families = _family_keys(key) if path == "$" else []
            if families and not hint:
                hint = f" ({key!r} belongs to the {' / '.join(families)} family; this spec is {doc.get('family')!r})"
            yield path, f"unknown key {key!r}{hint}"
        return
    if kind == "enum":
        yield path, f"{_short(instance)} is not one of {_short(error.validator_value, 200)}" \
            + (_did_you_mean(instance, error.validator_value) if isinstance(instance, str) else "")
        return
    if kind == "required":
        missing = [k for k in error.validator_value if isinstance(instance, dict) and k not in instance]
        for key in missing:
            yield path, f"missing required key {key!r}"
        return
    if kind == "const":
        yield path, f"expected {_short(error.validator_value)}, got {_short(instance)}"
        return
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield path, f"{_short(instance)} is not of type {expected}"
        return
    if kind in ("minProperties", "maxProperties") and isinstance(instance, dict) and \
            set(instance) <= {"choice", "int", "float", "bool"}:
        yield path, "a search space has exactly one of 'choice', 'int', 'float', 'bool'"
        return
    message = error.message
    if len(message) > 300:
        message = message.replace(repr(instance), _short(instance))[:300]
    yield path, message


def _schema_errors(doc, source):
    seen = set()
    for error in Draft202012Validator(load_schema()).iter_errors(doc):
        for path, message in _schema_error_lines(error, doc):
            if (path, message) not in seen:
                seen.add((path, message))
                yield SpecError(path, message, source)


def validate_spec(doc, source="<spec>", max_params=D.MAX_PARAMS):
    """Every problem of a spec document, as a list of `SpecError` (empty when valid).

    Returns:
        `(errors, plan)`: plan is the static plan of the default configuration, or None.
    """
    errors = list(_schema_errors(doc, source))
    if errors:
        return errors, None
    errors = [SpecError(path, message, source) for path, message in check_document(doc)]
    if errors:
        return errors, None
    try:
        plan = plan_spec(concretize(resolve(doc)))
    except SpecError as e:
        return [SpecError(e.path, e.message, source)], None
    if plan.params > max_params:
        worst = plan.largest()
        errors.append(SpecError(worst.path, f"the model has {plan.params:,} parameters, over the limit of "
                                f"{int(max_params):,} (--max-params); the largest layer, {worst.name} "
                                f"({worst.type}), has {worst.params:,}", source))
    return errors, plan


def load_spec(spec, overrides=(), max_params=D.MAX_PARAMS, source=None):
    """Loads and validates a spec.

    Args:
        spec: a path to a JSON file, a JSON string, a dict, or a `Spec`.
        overrides: `PATH=VALUE` strings applied before validation (CLI `--set`).
        max_params: the parameter limit (`--max-params`).
        source: the name used in messages (default: the path, or `<spec>`).

    Returns:
        A `Spec`.

    Raises:
        SpecErrors: every problem found, one located line each.
    """
    if isinstance(spec, Spec):
        spec, source, base_dir = spec.doc, source or spec.source, spec.base_dir
    elif isinstance(spec, dict):
        source, base_dir = source or "<spec>", "."
    elif isinstance(spec, str) and spec.lstrip().startswith("{"):
        source, base_dir = source or "<spec>", "."
        spec = parse_json(spec, source)
    else:
        path = os.fspath(spec)
        source, base_dir = source or path, os.path.dirname(os.path.abspath(path))
        spec = read_json_file(path, source)
    try:
        doc = apply_overrides(spec, overrides, source)
    except SpecError as e:
        raise SpecErrors([e]) from None
    errors, plan = validate_spec(doc, source, max_params)
    if errors:
        raise SpecErrors(errors)
    return Spec(doc, source, base_dir, plan)


def render_spec(spec, overrides=()):
    """The spec with every default filled in; it validates again."""
    return load_spec(spec, overrides).rendered()
