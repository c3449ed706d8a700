"""Load and validate specs: strict JSON, overrides, schema, semantic checks, then the static plan.

Every problem of a file is collected and reported at once, one `SpecError` each
(`FILE: JSON-PATH: message`). Nothing here imports a backend.
"""

import os

from archbuilder.data.parse import check_data
from archbuilder.errors import ArgumentTypeError
from archbuilder.errors import DataError
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.families import get_family
from archbuilder.format import defaults as D
from archbuilder.format import jsonpath
from archbuilder.format.jsonfile import check_value
from archbuilder.format.jsonfile import parse_json
from archbuilder.format.jsonfile import read_json_file
from archbuilder.format.search_space import default_pick
from archbuilder.format.search_space import has_spaces
from archbuilder.format.search_space import is_repeat
from archbuilder.format.search_space import iter_spaces
from archbuilder.format.search_space import resolve
from archbuilder.spec.checks import check_document
from archbuilder.spec.normalize import concretize
from archbuilder.spec.normalize import fill_defaults
from archbuilder.spec.overrides import apply_overrides
from archbuilder.spec.overrides import as_pairs
from archbuilder.spec.plan import plan_spec
from archbuilder.spec.schema_errors import schema_errors
from archbuilder.text import count as _count

__all__ = ["Spec", "load_spec", "render_spec", "validate_spec", "resolve_files"]

MAX_MESSAGE = 300


class Spec:
    """A validated spec.

    Attributes:
        doc: the document as given (after overrides).
        source: the file name used in messages (`<spec>` for dicts).
        base_dir: the folder relative paths in the spec (data, backbone) are resolved against.
        plan: the static plan of the spec's default configuration.
        overrides: the overrides applied to the file, as `(keys, value)` pairs.
        path: the spec file's absolute path, or None for a dict or a JSON string.
    """

    def __init__(self, doc, source="<spec>", base_dir=".", plan=None, overrides=(), path=None):
        self.doc = doc
        self.source = source
        self.base_dir = base_dir
        self.plan = plan
        self.overrides = list(overrides)
        self.path = path

    @property
    def name(self):
        return self.doc["name"]

    @property
    def family(self):
        return self.doc["family"]

    @property
    def has_spaces(self):
        return has_spaces(self.doc)

    def search_spaces(self):
        """`{JSON path: space}` of every search space in the spec (repeat bodies as `...each...` paths)."""
        return dict(iter_spaces(self.doc))

    def rendered(self):
        """The spec with every default filled in (what `archbuilder render` prints)."""
        return fill_defaults(self.doc)

    def concrete(self, pick=default_pick):
        """The concrete spec, each search space replaced by `pick(name, space)`; files named by the
        spec (a backbone model) as absolute paths, resolved against `base_dir`."""
        return resolve_files(concretize(resolve(self.doc, pick)), self.base_dir)

    def require_concrete(self, command):
        """Refuses a spec with open search spaces, pointing to `tune` and to `command --defaults`.

        Raises:
            SpecErrors: the spec has search spaces.
        """
        if self.has_spaces:
            raise SpecErrors([SpecError("$", f"the spec has open search spaces: run `archbuilder tune "
                                             f"{self.source}`, or `archbuilder {command} --defaults` to use each "
                                             "space's default", self.source)])

    def __repr__(self):
        return f"Spec({self.name!r}, family={self.family!r}, source={self.source!r})"


def _source_path(doc, path):
    """`(path in the file, repetition)` for a path into the resolved spec.

    Repetition i of a repeat form is `$.conv[i]` once resolved; the file has
    `$.conv.each` there. Returns the path unchanged (and None) when no repeat
    form is on the way.
    """
    try:
        steps = jsonpath.keys(path)
    except ValueError:
        return path, None
    out, node, repetition = "$", doc, None
    for key in steps:
        if is_repeat(node) and isinstance(key, int):
            out, node, repetition = f"{out}.each", node["each"], key
            continue
        out = jsonpath.join(out, key)
        if isinstance(node, dict) and isinstance(key, str) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            node = None
    return (out, repetition) if repetition is not None else (path, None)


def _located(doc, path, message, source):
    """A `SpecError` at the place of `path` in the file (see `_source_path`)."""
    where, repetition = _source_path(doc, path)
    if len(message) > MAX_MESSAGE:  # a message echoing a huge value must still read as one line
        message = message[:MAX_MESSAGE - 3] + "..."
    if repetition is not None:
        message = f"{message} (in repetition {repetition})"
    return SpecError(where, message, source)


def _under(path, parent):
    return path == parent or path.startswith((f"{parent}.", f"{parent}["))


def _data_errors(data, source):
    try:
        check_data(data)
    except DataError as e:
        return [SpecError("$.data", e.message, source)]
    return []


def resolve_files(doc, base_dir):
    """`doc` (resolved: no spaces left) with the files its family names made absolute against `base_dir`.

    Relative paths in a spec are relative to the spec file, for data (`archbuilder.data.parse`)
    and for the files a family reads (`Family.files`: a backbone model) alike. Changes `doc`
    in place and returns it.
    """
    try:
        family = get_family(doc.get("family"))
    except SpecError:
        return doc
    for keys in family.files(doc):
        parent = doc
        for key in keys[:-1]:
            parent = parent[key]
        value = parent[keys[-1]]
        if not os.path.isabs(value):
            parent[keys[-1]] = os.path.normpath(os.path.join(os.path.abspath(base_dir or "."), value))
    return doc


def validate_spec(doc, source="<spec>", max_params=D.MAX_PARAMS, base_dir="."):
    """Every problem of a spec document, as a list of `SpecError` (empty when valid).

    The semantic checks and the plan run only on a schema-valid document: they
    read its keys without guarding against what the schema refuses. `base_dir` is
    where the files the spec names (a backbone model, counted by the plan) are found.

    Returns:
        `(errors, plan)`: plan is the static plan of the default configuration, or None.
    """
    errors = list(schema_errors(doc, source))
    if isinstance(doc.get("data"), dict):  # the data rule's own check says it (archbuilder.data.parse)
        errors = [e for e in errors if not _under(e.path, "$.data")] + _data_errors(doc["data"], source)
    if errors:
        return errors, None
    problems = dict.fromkeys(check_document(doc))  # in order, once: inherited values share a path
    errors = [_located(doc, path, message, source) for path, message in problems]
    if errors:
        return errors, None
    try:
        plan = plan_spec(resolve_files(concretize(resolve(doc)), base_dir))
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

    A dict is held to what a spec file may say (`archbuilder.format.jsonfile.check_value`):
    NaN, Infinity, integers over 100 digits, nesting over 64 levels, NumPy scalars, sets
    and other values JSON cannot hold are refused with their JSON path; tuples are read as lists.

    Args:
        spec: a path to a JSON file, a JSON string, a dict, or a `Spec`.
        overrides: applied before validation: `PATH=VALUE` strings (`--set`) or
            `(path, value)` pairs (`archbuilder.spec.overrides`).
        max_params: the parameter limit (`--max-params`).
        source: the name used in messages (default: the path, or `<spec>`).

    Returns:
        A `Spec`.

    Raises:
        SpecErrors: every problem found, one located line each.
        ArgumentTypeError: `spec` is none of the above (a `TypeError` too).
    """
    if isinstance(max_params, bool) or not isinstance(max_params, (int, float)) or not max_params >= 0:
        raise ArgumentTypeError("load_spec", "max_params", f"expected a number of parameters (>= 0); got "
                                f"{max_params!r}"[:200])
    if source is not None and not isinstance(source, str):
        raise ArgumentTypeError("load_spec", "source", f"expected a str; got {type(source).__name__}")
    earlier, path = [], None
    if isinstance(spec, Spec):
        spec, source, base_dir, earlier, path = spec.doc, source or spec.source, spec.base_dir, spec.overrides, spec.path
    elif isinstance(spec, dict):
        source, base_dir = source or "<spec>", "."
        spec = check_value(spec, source)
    elif isinstance(spec, str) and spec.lstrip().startswith("{"):
        source, base_dir = source or "<spec>", "."
        spec = parse_json(spec, source)
    elif isinstance(spec, (str, os.PathLike)) and isinstance(os.fspath(spec), str):
        path = os.path.abspath(os.fspath(spec))
        source, base_dir = source or os.fspath(spec), os.path.dirname(path)
        spec = read_json_file(os.fspath(spec), source)
    else:
        raise ArgumentTypeError("load_spec", "spec", "expected a spec file's path, a JSON string, a dict or a "
                                f"Spec; got {type(spec).__name__}")
    try:
        doc = apply_overrides(spec, overrides, source)
        pairs = as_pairs(overrides, source)
    except SpecError as e:
        raise SpecErrors([e]) from None
    errors, plan = validate_spec(doc, source, max_params, base_dir)
    if errors:
        raise SpecErrors(errors)
    return Spec(doc, source, base_dir, plan, overrides=list(earlier) + pairs, path=path)


def render_spec(spec, overrides=()):
    """The spec with every default filled in; it validates again."""
    return load_spec(spec, overrides).rendered()
