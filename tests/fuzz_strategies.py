"""Hypothesis strategies for specs: valid ones drawn from the shipped schema, and broken ones.

hypothesis-jsonschema knows drafts 4-7 only and breaks on current hypothesis, so
`SchemaStrategy` draws values from the subset of draft 2020-12 that the spec
schema uses: `$ref`, `type`, `const`, `enum`, `properties`/`required`/
`additionalProperties`, `min/maxProperties`, `propertyNames`, `items`,
`min/maxItems`, `uniqueItems`, numeric bounds, `pattern`, `minLength`, `allOf`
of `if`/`then` branches told apart by a `const` (the families, layer types,
optimizers, schedules), and `if`/`then`/`else` (a search space or a plain value).
Numbers are kept small (`int_cap`) so drawn models stay tiny.

`spec_docs(family)` draws a document of one family, usually with an input shape
that suits it; `mutated_docs` breaks a valid document at a random JSON path;
`spec_bytes` and `garbage_bytes` give file contents: valid, mutated as text,
re-encoded, truncated, or noise. Used by tests/test_fuzz.py and bench/fuzz_long.py.
"""

import json
import math

from hypothesis import strategies as st
from archbuilder.format.schema import SpecValidator
from archbuilder.format.schema import load_schema

__all__ = ["SchemaStrategy", "FAMILIES", "spec_docs", "valid_spec_docs", "mutated_docs", "spec_bytes",
           "garbage_bytes", "json_values", "is_schema_valid"]

FAMILIES = ("cnn", "rnn", "autoencoder", "custom")
_SPACE_IF = ({"type": "object"},)


def _schema():
    return load_schema()


_VALIDATOR = None


def is_schema_valid(doc):
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = SpecValidator(_schema())  # archbuilder's: an integer is never 2.0
    return _VALIDATOR.is_valid(doc)


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def _number_key(value):
    """JSON Schema equality: 1 and 1.0 are the same item."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_number_key(v) for v in value]
    if isinstance(value, dict):
        return {k: _number_key(v) for k, v in value.items()}
    return value


def _merge(base, extra):
    """The schema of values that satisfy both `base` and `extra` (for the keywords used here)."""
    out = dict(base)
    for key, value in extra.items():
        if key == "properties":
            props = dict(out.get("properties", {}))
            for name, sub in value.items():
                if name in props and props[name] and sub:
                    props[name] = _merge(props[name], sub)
                elif name not in props or sub:
                    props[name] = sub
            out["properties"] = props
        elif key == "required":
            out["required"] = list(dict.fromkeys(out.get("required", []) + list(value)))
        elif key == "type" and "type" in out:
            a = out["type"] if isinstance(out["type"], list) else [out["type"]]
            b = value if isinstance(value, list) else [value]
            both = [t for t in a if t in b or (t == "integer" and "number" in b)] or b
            out["type"] = both if len(both) > 1 else both[0]
        else:
            out[key] = value
    if extra.get("additionalProperties") is False and "properties" in extra:
        # A closed branch (a family, a layer type) lists every key it allows.
        out["properties"] = {k: v for k, v in out.get("properties", {}).items() if k in extra["properties"]}
    return out


def _const_branch(branch):
    """`(property, value)` when an `if` picks its branch by one property's const."""
    cond = branch.get("if", {})
    for name, sub in cond.get("properties", {}).items():
        if "const" in sub:
            return name, sub["const"]
    return None


class SchemaStrategy:
    """Draws JSON values valid against (parts of) a JSON Schema.

    Args:
        schema: the root schema (its `$defs` resolve `$ref`s).
        int_cap: how far above its minimum an unbounded integer may go.
        optional_rate: chance, in percent, that an optional property is present.
        max_depth: below this depth, optional properties are left out.
        space_rate: chance, in percent, of a search space where a value may be one.
    """

    def __init__(self, schema, int_cap=6, optional_rate=30, max_depth=7, space_rate=15):
        self.root = schema
        self.int_cap = int_cap
        self.optional_rate = optional_rate
        self.max_depth = max_depth
        self.space_rate = space_rate
        self._validators = {}

    def strategy(self, schema=None, **fixed):
        """A strategy for `schema` (default: the root); `fixed` pins top-level properties."""
        schema = self.root if schema is None else schema

        @st.composite
        def draw_value(draw):
            return self.draw(draw, schema, 0, fixed)

        return draw_value()

    # --- helpers -------------------------------------------------------------------

    def _resolve(self, schema):
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = _merge(self.root["$defs"][name], rest)
        return schema

    def _is_valid(self, schema, value):
        key = id(schema)
        if key not in self._validators:
            self._validators[key] = (schema, SpecValidator({**schema, "$defs": self.root["$defs"]}))
        return self._validators[key][1].is_valid(value)

    def _percent(self, draw, rate):
        return draw(st.integers(0, 99)) < rate

    # --- drawing -----------------------------------------------------------------------

    def draw(self, draw, schema, depth, fixed=None):
        schema = self._resolve(schema)
        if "allOf" in schema:
            schema = self._resolve(self._pick_allof(draw, schema, fixed or {}))
        if "if" in schema:
            return self._draw_conditional(draw, schema, depth, fixed)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            options = schema["enum"]
            if "type" in schema:
                types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
                options = [o for o in options if _json_type(o) in types
                           or (_json_type(o) == "integer" and "number" in types)] or options
            return draw(st.sampled_from(options))
        kind = schema.get("type")
        if kind is None:
            kind = "object" if "properties" in schema else None
        if isinstance(kind, list):
            weights = [t for t in kind for _ in range(1 if t == "null" else 3)]
            kind = draw(st.sampled_from(weights))
        if kind is None:
            return draw(json_values(max_leaves=4))
        return getattr(self, f"_draw_{kind}")(draw, schema, depth, fixed)

    def _pick_allof(self, draw, schema, fixed):
        base = {k: v for k, v in schema.items() if k != "allOf"}
        branches = []
        for part in schema["allOf"]:
            part = self._resolve(part)
            if "if" in part and _const_branch(part):
                branches.append(part)
            else:
                base = _merge(base, part)
        if not branches:
            return base
        name = _const_branch(branches[0])[0]
        wanted = fixed.get(name)
        candidates = [b for b in branches if wanted is None or _const_branch(b)[1] == wanted]
        branch = draw(st.sampled_from(candidates or branches))
        merged = _merge(_merge(base, branch["if"]), branch.get("then", {}))
        merged.pop("if", None)
        return merged

    def _draw_conditional(self, draw, schema, depth, fixed):
        cond = schema["if"]
        rest = {k: v for k, v in schema.items() if k not in ("if", "then", "else")}
        is_space_switch = cond == {"type": "object"} and "then" in schema and "else" in schema
        if is_space_switch:
            use_then = self._percent(draw, self.space_rate if depth else 0)
        elif "else" not in schema:
            use_then = True
        else:
            use_then = draw(st.booleans())
        if use_then:
            target = _merge(_merge(rest, cond), schema.get("then", {}))
        else:
            target = _merge(rest, schema.get("else", {}))
        value = self.draw(draw, target, depth, fixed)
        if self._is_valid(cond, value) != use_then:
            # The drawn value took the other branch; rare (e.g. an object where a scalar was meant).
            from hypothesis import reject

            reject()
        return value

    def _draw_null(self, draw, schema, depth, fixed):
        return None

    def _draw_boolean(self, draw, schema, depth, fixed):
        return draw(st.booleans())

    def _bounds(self, schema, integer):
        low = schema.get("minimum")
        high = schema.get("maximum")
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + (1 if integer else 0)
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - (1 if integer else 0)
        return low, high

    def _draw_integer(self, draw, schema, depth, fixed):
        low, high = self._bounds(schema, True)
        low = math.ceil(low) if low is not None else (-2 if high is None else high - self.int_cap)
        # The schema bounds every integer by int64; draws stay near `low` as they did before it did.
        high = min(math.floor(high), low + self.int_cap) if high is not None else low + self.int_cap
        return draw(st.integers(low, max(low, high)))

    def _draw_number(self, draw, schema, depth, fixed):
        low, high = self._bounds(schema, False)
        exclusive_low = "exclusiveMinimum" in schema
        exclusive_high = "exclusiveMaximum" in schema
        low = low if low is not None else -2.0
        high = high if high is not None else low + self.int_cap
        if draw(st.booleans()):
            int_low = math.floor(low) + 1 if exclusive_low else math.ceil(low)
            int_high = math.ceil(high) - 1 if exclusive_high else math.floor(high)
            if int_low <= int_high:
                return draw(st.integers(int_low, int_high))
        return draw(st.floats(low, high, exclude_min=exclusive_low, exclude_max=exclusive_high,
                              allow_nan=False, allow_infinity=False, allow_subnormal=False))

    def _draw_string(self, draw, schema, depth, fixed):
        if "pattern" in schema:
            return draw(st.from_regex(schema["pattern"], fullmatch=True))
        low = schema.get("minLength", 0)
        return draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=low,
                            max_size=max(low, 8)))

    def _draw_array(self, draw, schema, depth, fixed):
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        count = draw(st.integers(low, max(low, high)))
        items = schema.get("items", {})
        values, seen = [], set()
        for _ in range(count * 3):
            if len(values) == count:
                break
            value = self.draw(draw, items, depth + 1)
            key = json.dumps(_number_key(value), sort_keys=True)
            if schema.get("uniqueItems") and key in seen:
                continue
            seen.add(key)
            values.append(value)
        if len(values) < low:
            from hypothesis import reject

            reject()
        return values

    def _draw_object(self, draw, schema, depth, fixed):
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", []) if k in props or schema.get("additionalProperties", True)]
        optional = [k for k in props if k not in required]
        max_props = schema.get("maxProperties")
        min_props = schema.get("minProperties", 0)
        chosen = list(required)
        if max_props is not None and max_props <= len(required) + 1 and optional and min_props > len(required):
            chosen.append(draw(st.sampled_from(optional)))  # a search space: exactly one kind
        else:
            for key in optional:
                if fixed and depth == 0 and key in fixed:
                    chosen.append(key)
                elif depth < self.max_depth and self._percent(draw, self.optional_rate):
                    chosen.append(key)
            missing = [key for key in optional if key not in chosen]
            while len(chosen) < min_props and missing:  # e.g. tuning.select: at least one of its keys
                chosen.append(missing.pop(draw(st.integers(0, len(missing) - 1))))
            if max_props is not None:
                chosen = chosen[:max_props]
        value = {}
        for key in chosen:
            if fixed and depth == 0 and key in fixed:
                value[key] = fixed[key]
            elif key in props:
                value[key] = self.draw(draw, props[key], depth + 1)
            else:
                value[key] = draw(json_values(max_leaves=2))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and depth < self.max_depth:
            for _ in range(draw(st.integers(0, 2))):
                key = draw(st.text(min_size=1, max_size=6))
                if key not in props:
                    value[key] = self.draw(draw, extra, depth + 1)
        return value


# --- valid specs ----------------------------------------------------------------------------

_SHARED = {}


def _schema_strategy():
    if "s" not in _SHARED:
        _SHARED["s"] = SchemaStrategy(_schema())
    return _SHARED["s"]


def _sides(count, low=1, high=8):
    return st.lists(st.integers(low, high), min_size=count, max_size=count)


@st.composite
def _family_input(draw, doc):
    """An input shape that suits the family (a validate error is still fine)."""
    family = doc["family"]
    if family == "cnn":
        rank = 3 if doc.get("backbone") else draw(st.integers(2, 4))
        shape = draw(_sides(rank - 1, 4, 12 if rank < 4 else 6)) + [draw(st.integers(1, 3))]
        return {"shape": shape, "dtype": "float32"}
    if family == "rnn":
        steps = draw(st.one_of(st.integers(1, 8), st.none()))
        if doc.get("embedding"):
            return {"shape": [steps], "dtype": draw(st.sampled_from(["int32", "int64", "uint8"]))}
        return {"shape": [steps, draw(st.integers(1, 4))]}
    if family == "autoencoder":
        items = doc.get("encoder")
        items = [items["each"]] if isinstance(items, dict) else items or []
        if any(isinstance(i, dict) and "filters" in i for i in items):
            rank = draw(st.integers(2, 3))
            side = draw(st.sampled_from([4, 8, 16]))
            return {"shape": [side] * (rank - 1) + [draw(st.integers(1, 3))]}
        return {"shape": draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))}
    return {"shape": draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))}


@st.composite
def spec_docs(draw, family=None, fit_input=True):
    """A spec document drawn from the shipped schema (schema-valid), of `family` or any.

    With `fit_input`, most draws get an input shape that suits the family, so that
    many pass `validate`'s semantic checks too; others keep the schema's random shape.
    """
    family = family or draw(st.sampled_from(FAMILIES))
    doc = draw(_schema_strategy().strategy(family=family))
    doc.pop("data", None)  # data sources are read by train, not validate/build
    if fit_input and draw(st.integers(0, 9)) < 8:
        doc["input"] = draw(_family_input(doc))
        _fit_semantics(doc)
    return doc


_MERGING = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot")


def _fit_semantics(doc):
    """Undoes the commonest cross-key conflicts, so that more draws pass `validate`."""
    tuning = doc.get("tuning", {})
    if tuning.get("tuner") != "hyperband":
        for key in ("max_epochs", "factor", "hyperband_iterations"):
            tuning.pop(key, None)
    else:
        tuning.pop("max_trials", None)
    if doc["family"] == "rnn" and isinstance(doc.get("rnn"), dict):
        if doc["rnn"].get("return_sequences") is not True:
            doc.pop("sequence_pool", None)
    if doc["family"] == "custom":
        for i, layer in enumerate(doc["layers"]):
            layer["name"] = f"l{i}"
            previous = f"l{i - 1}" if i else "input"
            if layer["type"] in _MERGING:
                layer["inputs"] = [previous, previous]
            else:
                layer.pop("inputs", None)
    if doc["family"] == "autoencoder":
        variant = doc.get("variant", "plain")
        variant = variant if isinstance(variant, str) else "plain"
        doc["variant"] = variant
        for name, key in {"sparse": "sparsity", "contractive": "contractive", "denoising": "noise"}.items():
            if variant != name:
                doc.pop(key, None)
            elif key not in doc:
                doc[key] = {"sparsity": {"l1": 1e-4}, "contractive": {"weight": 1e-3},
                            "noise": {"stddev": 0.1}}[key]
        encoder = doc.get("encoder")
        items = [encoder["each"]] if isinstance(encoder, dict) else encoder or []
        if not any(isinstance(i, dict) and "filters" in i for i in items) and not doc.get("bottleneck"):
            doc["bottleneck"] = {"units": 2}


def valid_spec_docs(family=None):
    """`spec_docs` kept only where the document passes the JSON Schema."""
    return spec_docs(family).filter(is_schema_valid)


# --- broken specs --------------------------------------------------------------------------


def json_values(max_leaves=6):
    """Any JSON value, weighted toward the awkward ones."""
    scalars = st.one_of(
        st.none(), st.booleans(),
        st.integers(-3, 10),
        st.integers(),
        st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**30, 10**99]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, -0.0, 1e-320, 1e308, 0.5, 1.0]),
        st.text(max_size=12),
        st.sampled_from(["", "relu", "choice", "repeat", "each", "$", "\u0000", "\U0001F600", "Lambda",
                         "__lambda__", "a" * 300]),
    )
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=6), inner, max_size=3),
        st.builds(lambda v: {"choice": v}, st.lists(inner, max_size=3)),
        st.builds(lambda r, e: {"repeat": r, "each": e}, inner, inner),
        st.builds(lambda lo, hi: {"int": {"min": lo, "max": hi}}, st.integers(-5, 50), st.integers(-5, 50)),
    ), max_leaves=max_leaves)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, path + (i,))


def _copy(value):
    return json.loads(json.dumps(value))


@st.composite
def mutated_docs(draw, family=None):
    """A valid document broken in one to three places (each a random path and operation)."""
    doc = _copy(draw(spec_docs(family)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        op = draw(st.sampled_from(["replace", "replace", "delete", "add_key", "wrap", "repeat", "space", "huge"]))
        if not path:
            if op == "add_key":
                doc[draw(st.text(min_size=1, max_size=8))] = draw(json_values(3))
            continue
        key = path[-1]
        current = parent[key]
        if op == "replace":
            parent[key] = draw(json_values())
        elif op == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif op == "add_key" and isinstance(current, dict):
            current[draw(st.text(min_size=1, max_size=8))] = draw(json_values(3))
        elif op == "wrap":
            parent[key] = draw(st.sampled_from([[current], {"value": current}, {"choice": [current]}]))
        elif op == "repeat":
            parent[key] = {"repeat": draw(st.integers(0, 4)), "each": current}
        elif op == "space":
            parent[key] = draw(st.sampled_from([{"choice": []}, {"choice": [current, current]},
                                                {"int": {"min": 5, "max": 1}}, {"float": {"min": 0, "max": 1,
                                                                                          "sampling": "log"}},
                                                {"bool": {}}, {"choice": [current, "x", None]}]))
        elif op == "huge":
            parent[key] = draw(st.sampled_from([10**18, -(10**18), 1e300, -1e-300, 2**53 + 1, 10**99]))
    return doc


_TEXT_EDITS = ("truncate", "insert", "flip", "nan", "duplicate", "deep", "bigint", "utf16", "latin1", "bom",
               "unicode_key", "trailing", "none")


@st.composite
def spec_bytes(draw, family=None):
    """The bytes of a spec file: a valid or mutated document, then damaged as text or re-encoded.

    Returns:
        `(edit, data)`: the name of the text edit applied and the file's bytes.
    """
    doc = draw(st.one_of(spec_docs(family), mutated_docs(family)))
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 1])), ensure_ascii=draw(st.booleans()))
    edit = draw(st.sampled_from(_TEXT_EDITS))
    cut = draw(st.integers(0, max(0, len(text) - 1)))
    if edit == "truncate":
        text = text[:cut]
    elif edit == "insert":
        text = text[:cut] + draw(st.text(max_size=4)) + text[cut:]
    elif edit == "flip":
        data = bytearray(text.encode("utf-8"))
        if data:
            data[min(cut, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        return edit, bytes(data)
    elif edit == "nan":
        literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]))
        text = _replace_number(text, literal, cut)
    elif edit == "duplicate":
        if draw(st.booleans()):
            text = text.replace('"name":', '"name": "dup", "name":', 1)
        else:
            text = text.replace('"family":', '"family": "cnn", "family":', 1)
    elif edit == "deep":
        depth = draw(st.sampled_from([65, 500, 100_000]))
        text = text[:-1] + ', "description": ' + "[" * depth + "]" * depth + "}" if text.endswith("}") else text
    elif edit == "bigint":
        digits = draw(st.sampled_from([101, 4301, 5000, 100_000]))
        text = _replace_number(text, "9" * digits, cut)
    elif edit == "utf16":
        return edit, text.encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"])), "surrogatepass")
    elif edit == "latin1":
        if '"description"' in text:
            return edit, text.replace('"description": "', '"description": "caf\u00e9 ').encode("latin-1", "replace")
        return edit, ("x\u00e9" + text).encode("latin-1", "replace")
    elif edit == "bom":
        return edit, b"\xef\xbb\xbf" + text.encode("utf-8")
    elif edit == "unicode_key":
        key = draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6))
        text = "{" + json.dumps(key) + ": 1, " + text[1:] if text.startswith("{") else text
    elif edit == "trailing":
        text = text + draw(st.sampled_from([",", "}", " x", "\n{}", "\x00"]))
    return edit, text.encode("utf-8", "surrogatepass")


def _replace_number(text, literal, near):
    """Replaces the number closest after `near` (else the first) with `literal`."""
    import re

    numbers = list(re.finditer(r"(?<![\w.\"])-?\d+(\.\d+)?([eE][-+]?\d+)?", text))
    if not numbers:
        return text[:-1] + f', "x": {literal}}}' if text.endswith("}") else text
    match = next((m for m in numbers if m.start() >= near), numbers[0])
    return text[:match.start()] + literal + text[match.end():]


def garbage_bytes():
    """Noise: random bytes, or near-JSON text."""
    return st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from([b"", b" ", b"{", b"}", b"[]", b"null", b"1", b'"x"', b"{}", b'{"spec_version": 1}',
                         b"\xff\xfe{\x00}\x00", b"\x00" * 10, b"{" * 1000, b'{"a":' * 70 + b"1" + b"}" * 70,
                         b"NaN", b"[NaN]", b'{"spec_version": Infinity}', b"\xef\xbb\xbf{}"]),
    )


# --- what a good answer looks like ---------------------------------------------------------

MAX_MESSAGE = 500  # characters; a message echoing a megabyte of input is a bug


def answer_problems(errors, source):
    """What is wrong with a list of errors as an answer to the user (empty: nothing).

    Every problem must be a `SpecError` for `source` with a JSON path, on one
    short line: `FILE: JSON-PATH: message`.
    """
    from archbuilder.errors import SpecError

    if not errors:
        return ["an error without any problem in it"]
    found = []
    for error in errors:
        if not isinstance(error, SpecError):
            found.append(f"not a SpecError: {type(error).__name__}")
            continue
        text = str(error)
        if not isinstance(error.path, str) or not error.path.startswith("$"):
            found.append(f"path {error.path!r} is not a JSON path")
        if error.source != source:
            found.append(f"source {error.source!r} is not {source!r}")
        if "\n" in text or "\r" in text:
            found.append(f"more than one line: {text[:200]!r}")
        if not str(error.message).strip():
            found.append(f"empty message at {error.path}")
        if len(str(error.message)) > MAX_MESSAGE:
            found.append(f"{len(error.message)}-character message at {error.path}: {error.message[:120]!r}...")
        if "Traceback" in text:
            found.append("a traceback in the message")
    return found
