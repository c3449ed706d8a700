"""Load and validate specs: schema, then semantic checks, then the static plan.

Every problem of a file is collected and reported at once, one `SpecError` each
(`FILE: JSON-PATH: message`). Nothing here imports a backend.
"""

import copy
import decimal
import difflib
import functools
import json
import os
import re

from archbuilder import defaults as D
from archbuilder.checks import check_document
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.jsonfile import parse_json
from archbuilder.jsonfile import path_join
from archbuilder.jsonfile import read_json_file
from archbuilder.normalize import concretize
from archbuilder.normalize import fill_defaults
from archbuilder.plan import plan_spec
from archbuilder.schema import load_schema
from archbuilder.schema import spec_validator
from archbuilder.search_space import default_pick
from archbuilder.search_space import has_spaces
from archbuilder.search_space import is_repeat
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


def parse_override(text, source="--set"):
    """`'training.epochs=3'` -> `(['training', 'epochs'], 3)`; the value is JSON, else a string.

    Raises:
        SpecError: at `$` of `source`, when `text` is not `PATH=VALUE` with a readable path.
    """
    if "=" not in text:
        raise SpecError("$", f"--set expects PATH=VALUE, got {text!r}", source)
    path, value = text.split("=", 1)
    path = path.strip().removeprefix("$").removeprefix(".")
    keys, pos = [], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        # A key follows a dot, except the first one: `dense[0]units` is a typo of `dense[0].units`.
        if not m or (m.group(1) is not None and pos > 0 and path[pos] != ".") or \
                (pos == 0 and path.startswith(".")):
            raise SpecError("$", f"--set: cannot read the path {path!r} (e.g. training.epochs or "
                                 f"conv[0].filters)", source)
        keys.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not keys:
        raise SpecError("$", f"--set: empty path in {text!r}", source)
    try:
        value = json.loads(value)
    except ValueError:
        pass
    return keys, value


def apply_overrides(doc, overrides, source="--set"):
    """Returns a copy of `doc` with each `PATH=VALUE` override applied.

    Raises:
        SpecError: an override that cannot be read or applied, located in `source`.
    """
    doc = copy.deepcopy(doc)
    for text in overrides:
        keys, value = parse_override(text, source)
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


def _edits(a, b):
    """Edit distance counting a swap of neighbours as one edit ('adma' is 1 from 'adam')."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _closest(word, options):
    """The option `word` was most likely meant to be, or None."""
    word = str(word)
    if len(word) > 100:  # difflib and _edits are quadratic; no key is that long
        return None
    matches = difflib.get_close_matches(word, [str(o) for o in options], n=3, cutoff=0.6)
    return min(matches, key=lambda m: _edits(word, m)) if matches else None


def _did_you_mean(word, options):
    match = _closest(word, options)
    return f" (did you mean '{match}'?)" if match else ""


def _family_keys(key):
    schema = load_schema()
    families = []
    for branch in schema.get("allOf", []):
        family = branch.get("if", {}).get("properties", {}).get("family", {}).get("const")
        if family and key in branch.get("then", {}).get("properties", {}):
            families.append(family)
    return families


class _Line:
    """One schema error line; `meant` is the key an unknown key was probably meant to be,
    `missing` the required key a line reports as absent."""

    def __init__(self, path, message, meant=None, missing=None):
        self.path, self.message, self.meant, self.missing = path, message, meant, missing


def _error_path(error):
    """The JSON path of a jsonschema error, keys escaped as in every other archbuilder path."""
    return functools.reduce(path_join, error.absolute_path, "$")


def _schema_error_lines(error, doc):
    """Yields a `_Line` for one jsonschema error, in archbuilder's words."""
    kind, instance = error.validator, error.instance
    path = _error_path(error)
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {}))
        for key in instance:
            if key in allowed or any(re.search(p, key) for p in error.schema.get("patternProperties", {})):
                continue
            meant = _closest(key, allowed)
            hint = f" (did you mean '{meant}'?)" if meant else ""
            families = _family_keys(key) if path == "$" else []
            if families and not hint:
                hint = (f" ({key!r} belongs to the {' / '.join(families)} family; this spec is "
                        f"{_short(doc.get('family'))})")
            yield _Line(path, f"unknown key {_short(key)}{hint}", meant=meant)
        return
    if kind == "enum":
        yield _Line(path, f"{_short(instance)} is not one of {_short(error.validator_value, 200)}"
                    + (_did_you_mean(instance, error.validator_value) if isinstance(instance, str) else ""))
        return
    if kind == "required":
        allowed = error.schema.get("properties", {})
        unknown = [k for k in instance if k not in allowed] if isinstance(instance, dict) else []
        for key in error.validator_value:
            if isinstance(instance, dict) and key not in instance:
                # A key close to the missing one is likely its misspelling: say so.
                typo = next((k for k in unknown if _closest(k, [key]) == key), None)
                hint = f" ({_short(typo)} looks like a misspelling of it)" if typo is not None else ""
                yield _Line(path, f"missing required key {key!r}{hint}", missing=key)
        return
    if kind == "const":
        yield _Line(path, f"expected {_short(error.validator_value)}, got {_short(instance)}")
        return
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield _Line(path, f"{_short(instance)} is not of type {expected}")
        return
    if kind in ("minProperties", "maxProperties") and isinstance(instance, dict) and \
            set(instance) <= {"choice", "int", "float", "bool"}:
        yield _Line(path, "a search space has exactly one of 'choice', 'int', 'float', 'bool'")
        return
    message = error.message
    if len(message) > 300:
        message = message.replace(repr(instance), _short(instance))[:300]
    yield _Line(path, message)


def _schema_errors(doc, source):
    lines = []
    for error in spec_validator().iter_errors(doc):
        if is_repeat(error.instance) and error.json_path.endswith(".each"):
            lines.append(_Line(_error_path(error), "a repeat form cannot be nested in another one's \"each\" "
                                                   "(spec_version 1)"))
        else:
            lines.extend(_schema_error_lines(error, doc))
    # A misspelt required key is one problem: when an "unknown key ... (did you mean 'K'?)" line
    # exists for the same object, it says it, and "missing required key 'K'" would repeat it.
    meant = {(line.path, line.meant) for line in lines if line.meant}
    seen = set()
    for line in lines:
        if line.missing is not None and (line.path, line.missing) in meant:
            continue
        if (line.path, line.message) not in seen:
            seen.add((line.path, line.message))
            yield SpecError(line.path, " ".join(line.message.splitlines()), source)


MAX_MESSAGE = 300
_PATH_TOKEN = re.compile(r'\.([A-Za-z_]\w*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _source_path(doc, path):
    """`(path in the file, repetition)` for a path into the resolved spec.

    Repetition i of a repeat form is `$.conv[i]` once resolved; the file has
    `$.conv.each` there. Returns the path unchanged (and None) when no repeat
    form is on the way.
    """
    out, node, pos, repetition = "$", doc, 1, None
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if not m:
            return path, None
        key = m.group(1) if m.group(1) is not None else int(m.group(2)) if m.group(2) else json.loads(m.group(3))
        if is_repeat(node) and isinstance(key, int):
            out, node, repetition = f"{out}.each", node["each"], key
        elif isinstance(node, dict) and isinstance(key, str) and key in node:
            out, node = f"{out}{m.group(0)}", node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            out, node = f"{out}{m.group(0)}", node[key]
        else:
            out, node = f"{out}{m.group(0)}", None
        pos = m.end()
    return (out, repetition) if repetition is not None else (path, None)


def _located(doc, path, message, source):
    """A `SpecError` at the place of `path` in the file (see `_source_path`)."""
    where, repetition = _source_path(doc, path)
    if len(message) > MAX_MESSAGE:  # a message echoing a huge value must still read as one line
        message = message[:MAX_MESSAGE - 3] + "..."
    if repetition is not None:
        message = f"{message} (in repetition {repetition})"
    return SpecError(where, message, source)


def _count(n):
    """`1,234,567`, or `1.23e+45` for counts too long to read digit by digit."""
    if isinstance(n, float):
        if n != n or n in (float("inf"), float("-inf")):
            return str(n)
        n = int(n)
    return f"{n:,}" if n < 10**15 else format(decimal.Decimal(n), ".3g")


def validate_spec(doc, source="<spec>", max_params=D.MAX_PARAMS):
    """Every problem of a spec document, as a list of `SpecError` (empty when valid).

    The semantic checks and the plan run only on a schema-valid document: they
    read its keys without guarding against what the schema refuses.

    Returns:
        `(errors, plan)`: plan is the static plan of the default configuration, or None.
    """
    errors = list(_schema_errors(doc, source))
    if errors:
        return errors, None
    problems = dict.fromkeys(check_document(doc))  # in order, once: inherited values share a path
    errors = [_located(doc, path, message, source) for path, message in problems]
    if errors:
        return errors, None
    try:
        plan = plan_spec(concretize(resolve(doc)))
    except SpecError as e:
        return [_located(doc, e.path, e.message, source)], None
    if plan.params > max_params:
        worst = plan.largest()
        errors.append(_located(doc, worst.path, f"the model has {_count(plan.params)} parameters, over the limit "
                               f"of {_count(max_params)} (--max-params); the largest layer, {worst.name} "
                               f"({worst.type}), has {_count(worst.params)}", source))
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
