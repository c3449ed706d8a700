"""Helpers that build the schema's recurring shapes: closed objects, tunable values, repeat forms.

- A closed object says `"additionalProperties": false` next to its full `properties`.
- A tunable scalar is `{"description", "default", "if": {"type": "object"}, "then": <its
  search space>, "else": <its plain value>}`; named value kinds (`vocabulary.VALUE_KINDS`)
  get a `$defs` entry and a `<kind>_space` one, so each use costs two `$ref`s.
- A list searched by count is `{"if": {"type": "object"}, "then": {"repeat", "each"},
  "else": <array>}`.
- Variants are `allOf` of `if key == value then …`, never `oneOf`.
"""

import copy
import json

from archbuilder.format.schema.vocabulary import KIND_DESCRIPTIONS
from archbuilder.format.schema.vocabulary import SPACE_KINDS
from archbuilder.format.schema.vocabulary import VALUE_KINDS

__all__ = ["Builder", "MISSING", "closed", "prop", "ref", "repeatable", "variants"]

MISSING = object()
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _canonical(schema):
    return json.dumps({k: v for k, v in schema.items() if k not in ("description", "default")}, sort_keys=True)


def _types(schema):
    if "type" in schema:
        return [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
    if "enum" in schema:
        names = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
        return sorted({names[type(v)] for v in schema["enum"]})
    return []


def ref(name):
    return {"$ref": f"#/$defs/{name}"}


def closed(properties, required=(), description=None, nullable=False, **extra):
    """An object that rejects unknown keys, with its full `properties` beside."""
    schema = {"type": ["object", "null"] if nullable else "object"}
    if description:
        schema["description"] = description
    schema["properties"] = properties
    schema["additionalProperties"] = False
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def prop(schema, description, default=MISSING):
    """A non-tunable property: the value schema with a description (and default)."""
    out = {"description": description}
    if default is not MISSING:
        out["default"] = copy.deepcopy(default)
    out.update(schema)
    return out


class Builder:
    """Collects `$defs` while the schema is built."""

    def __init__(self):
        self.defs = {}
        self._kind_of = {_canonical(schema): name for name, schema in VALUE_KINDS.items()}

    def kind(self, name):
        """`$ref` to a named value kind, defining it on first use."""
        if name not in self.defs:
            self.defs[name] = {"description": KIND_DESCRIPTIONS[name], **VALUE_KINDS[name]}
            self.defs[f"{name}_space"] = self.space(VALUE_KINDS[name], ref(name))
        return ref(name)

    def value(self, schema):
        """`(plain, space)` schemas for a value: `$ref`s when it is a named kind, else inline."""
        if isinstance(schema, str):
            return self.kind(schema), ref(f"{schema}_space")
        name = self._kind_of.get(_canonical(schema))
        if name:
            return self.kind(name), ref(f"{name}_space")
        plain = {k: v for k, v in schema.items() if k not in ("description", "default")}
        return plain, self.space(plain, plain)

    def space(self, schema, items):
        """The search spaces a value may be replaced by (`choice`, `int`, `float`, `bool`); `items` is the value schema."""
        types = _types(schema)
        props = {"choice": {"description": "Candidate values, all of one JSON type (or null and one type).",
                            "type": "array", "minItems": 1, "uniqueItems": True, "items": copy.deepcopy(items)}}
        bounds = {k: schema[k] for k in _BOUNDS if k in schema}
        if "integer" in types:
            props["int"] = _range_space("integer", bounds)
        if "number" in types:
            props["float"] = _range_space("number", bounds)
        if "boolean" in types:
            props["bool"] = closed({"default": {"description": "Value used by `build --defaults` (false if absent).",
                                              "type": "boolean"}},
                                 description="Search over true and false.")
        kinds = ", ".join(f"`{k}`" for k in props)
        return closed(props, description=f"A search space: exactly one of {kinds}.", minProperties=1, maxProperties=1)

    def tunable(self, schema, description, default=MISSING, plain=None):
        """A scalar that may instead be a search space: `if` object `then` space `else` value.

        Args:
            schema: the value's schema, or the name of a value kind.
            description: for the person writing the spec.
            default: the `default` keyword (from a defaults table).
            plain: the value's schema when it is a `$defs` object (pool, loss); `schema` then only
                gives the types and bounds its search space allows.
        """
        if plain is None:
            plain, space = self.value(schema)
        else:
            space = self.space(schema, plain)
        holds_objects = "object" in _types(schema if isinstance(schema, dict) else VALUE_KINDS[schema])
        out = {"description": description}
        if default is not MISSING:
            out["default"] = copy.deepcopy(default)
        # A value that may itself be an object (pool, loss) is a space only when its one key is a space kind.
        out["if"] = _SPACE_TEST if holds_objects else {"type": "object"}
        out["then"] = space
        out["else"] = plain
        return out

    def plain(self, kind, description, default=MISSING):
        """A non-tunable value of a named kind."""
        return prop(self.kind(kind), description, default)

    def define(self, name, schema):
        self.defs[name] = schema
        return ref(name)


_SPACE_TEST = {"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": {"enum": list(SPACE_KINDS)}}


def _range_space(numtype, bounds):
    what = "integers" if numtype == "integer" else "numbers"
    step = {"type": "integer", "minimum": 1} if numtype == "integer" else {"type": "number", "exclusiveMinimum": 0}
    return closed({
        "min": {"description": "Smallest value searched.", "type": numtype, **bounds},
        "max": {"description": "Largest value searched (inclusive).", "type": numtype, **bounds},
        "step": {"description": "Distance between searched values (a factor with `log` sampling).", **step},
        "sampling": {"description": "`linear` (default): uniform; `log`: uniform in log scale, for values "
                                    "spanning orders of magnitude (min > 0); `reverse_log`: denser near max.",
                     "type": "string", "enum": ["linear", "log", "reverse_log"]},
        "default": {"description": "Value used by `build --defaults` (else min).", "type": numtype, **bounds},
    }, required=("min", "max"), description=f"Search over {what} from min to max.")


def repeatable(b, item, description, each_description):
    """A list of `item`s, or `{"repeat": count, "each": item}` to search the number of entries too."""
    return {
        "description": description,
        "if": {"type": "object"},
        "then": closed({
            "repeat": b.tunable("non_negative_int", "How many copies of `each`: an int, or an int search space."),
            "each": {"description": each_description, **item},
        }, required=("repeat", "each"), description="A repeated entry; repetition i gets its own hyperparameters."),
        "else": {"type": "array", "items": item},
    }


def variants(key, branches, default=None, stub_description=None):
    """`allOf` of `if key == value then its object`, plus one for when `key` is a search space.

    Args:
        key: the discriminating key (`type`).
        branches: `{value: (properties, required)}`.
        default: the value `key` takes when absent: its branch applies then.
        stub_description: description of `key` in the branches (its schema is the base's).
    """
    rules = []
    union = {}
    for value, (props, required) in branches.items():
        test = {"type": "object", "properties": {key: {"const": value}}}
        if value != default:
            test["required"] = [key]
        rules.append({"if": test, "then": closed({key: {"description": stub_description}, **props}, required)})
        union.update(props)
    rules.append({"if": {"type": "object", "properties": {key: {"type": "object"}}, "required": [key]},
                  "then": closed({key: {"description": stub_description}, **union})})
    return rules
