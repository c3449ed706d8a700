"""A spec's search spaces as keras-tuner hyperparameters: names, conditions and codecs.

Each space becomes one hyperparameter named by its spec path: `choice` ->
`hp.Choice`, `int` -> `hp.Int`, `float` -> `hp.Float`, `bool` -> `hp.Boolean`.
Repetition i of a `{"repeat": count, "each": item}` list gets its own
hyperparameters (`conv[i].filters`), declared under
`hp.conditional_scope("conv.repeat", [counts > i])`, so the oracle sees them as
inactive, not just absent, when the count is smaller.

keras-tuner's `Choice` takes values of one type and no `None` (and hands
booleans back as 0/1), so choices are encoded: all-int, all-float and all-str
lists are kept as they are (numbers mixing ints and floats become floats),
anything else — `null`, booleans, lists — becomes JSON text. `decode` turns a
value back into what the spec meant, so `best.json` gets JSON `null`/`true`.

`int` and `float` spaces pass `min`, `max`, `step`, `sampling` and `default` to
keras-tuner as they are, so with `sampling: "log"` a `step` multiplies (keras-tuner's
reading), where with `linear` it adds.
"""

import contextlib
import json

from archbuilder.errors import SpecError
from archbuilder.format import jsonpath
from archbuilder.format.search_space import default_value
from archbuilder.format.search_space import is_repeat
from archbuilder.format.search_space import iter_spaces
from archbuilder.format.search_space import resolve

__all__ = ["HyperSpace"]

_REPEAT_SUFFIX = ".repeat"


def _count_values(space):
    """Every count a repeat's count space can take."""
    kind, body = next(iter(space.items()))
    if kind == "choice":
        return sorted(int(v) for v in body)
    return list(range(int(body["min"]), int(body["max"]) + 1))


class _Codec:
    """Maps a `choice` list to values keras-tuner accepts, and back."""

    def __init__(self, values):
        kinds = {type(v) for v in values}
        if kinds == {int} or kinds == {str} or kinds == {float}:
            self.encoded = list(values)
        elif kinds == {int, float}:
            self.encoded = [float(v) for v in values]
        else:
            self.encoded = [json.dumps(v) for v in values]
        self._decode = {}
        for encoded, value in zip(self.encoded, values):
            self._decode.setdefault(encoded, value)

    def decode(self, value):
        if isinstance(value, bool) or value is None:  # never an encoded value: pass through
            return value
        return self._decode.get(value, value)


class HyperSpace:
    """The hyperparameters of a spec document: names, conditions and codecs.

    Args:
        doc: a validated spec document (`Spec.doc`), spaces kept.
    """

    def __init__(self, doc):
        self.doc = doc
        self.spaces = {}  # name -> space, every repetition of a repeat body included
        self._repeats = {}  # repeat prefix (`conv`) -> count values, for count spaces only
        self._codecs = {}
        for path, space in iter_spaces(doc):
            if path.endswith(_REPEAT_SUFFIX) and self._is_repeat_count(path):
                self._repeats[jsonpath.name(path[: -len(_REPEAT_SUFFIX)])] = _count_values(space)
        resolve(doc, self._collect)
        self.names = list(self.spaces)

    def _is_repeat_count(self, path):
        steps = jsonpath.keys(path)[:-1]
        found = list(jsonpath.walk(self.doc, steps))
        return len(found) == len(steps) and is_repeat(found[-1][1] if found else self.doc)

    def _collect(self, name, space):
        self.spaces[name] = space
        if name in self.count_names:
            return max(self._repeats[name[: -len(_REPEAT_SUFFIX)]])
        return default_value(space)

    @property
    def count_names(self):
        return {prefix + _REPEAT_SUFFIX for prefix in self._repeats}

    def condition(self, name):
        """`(parent_name, parent_values)` when `name` belongs to a searched repetition, else None."""
        steps = jsonpath.keys(name)
        for prefix, counts in self._repeats.items():
            head = jsonpath.keys(prefix)
            if steps[:len(head)] == head and len(steps) > len(head) and isinstance(steps[len(head)], int):
                index = steps[len(head)]
                return prefix + _REPEAT_SUFFIX, [c for c in counts if c > index]
        return None

    def codec(self, name):
        if name not in self._codecs:
            self._codecs[name] = _Codec(self.spaces[name]["choice"])
        return self._codecs[name]

    def _declare(self, hp, name, space):
        kind, body = next(iter(space.items()))
        if kind == "choice":
            return hp.Choice(name, self.codec(name).encoded, default=self.codec(name).encoded[0])
        if kind == "bool":
            return hp.Boolean(name, default=bool(body.get("default", False)))
        args = {"step": body.get("step"), "sampling": body.get("sampling", "linear")}
        if "default" in body:
            args["default"] = body["default"]
        if kind == "int":
            return hp.Int(name, int(body["min"]), int(body["max"]), **args)
        return hp.Float(name, float(body["min"]), float(body["max"]), **args)

    def decode(self, name, value):
        """The spec value of hyperparameter `name` from what keras-tuner returned."""
        kind = next(iter(self.spaces[name]))
        if value is None:
            return None
        if kind == "choice":
            return self.codec(name).decode(value)
        if kind == "bool":
            return bool(value)
        if kind == "int":
            return int(value)
        return float(value)

    def encode(self, name, value):
        """What keras-tuner holds for spec value `value` of hyperparameter `name` (`decode`'s inverse).

        Raises:
            ValueError: `value` is not a value the space can take (the message says which are).
        """
        kind, body = next(iter(self.spaces[name].items()))
        if kind == "choice":
            for option, encoded in zip(body, self.codec(name).encoded):
                if option == value and type(option) is type(value) or (
                        isinstance(option, float) and isinstance(value, int) and option == value):
                    return encoded
            raise ValueError(f"{json.dumps(value)} is not one of the choices {json.dumps(body)}")
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{json.dumps(value)} is not true or false")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not body["min"] <= value <= body["max"]:
            raise ValueError(f"{json.dumps(value)} is not a number in [{body['min']}, {body['max']}]")
        return int(value) if kind == "int" else float(value)

    def _scope(self, hp, name):
        condition = self.condition(name)
        if condition is None:
            return contextlib.nullcontext()
        return hp.conditional_scope(*condition)

    def declare(self, hp):
        """Registers every hyperparameter of the spec, each repetition under its condition."""
        for name in self.names:
            with self._scope(hp, name):
                self._declare(hp, name, self.spaces[name])

    def picker(self, hp):
        """A `pick(name, space)` for `Spec.concrete` that reads (and declares) `hp`."""

        def pick(name, space):
            with self._scope(hp, name):
                value = self._declare(hp, name, space)
            if value is None:  # an inactive repetition: resolve never asks, but be explicit
                raise SpecError(f"$.{name}", "the hyperparameter is inactive for this count")
            return self.decode(name, value)

        return pick

    def values(self, raw):
        """Decoded values (name -> spec value) of the active hyperparameters in `raw`.

        Args:
            raw: keras-tuner's `HyperParameters.values` dict (as a trial stores it).
        """
        out = {}

        def pick(name, space):
            value = self.decode(name, raw.get(name, default_value(space)))
            out[name] = value
            return value

        resolve(self.doc, pick)
        return out

    def resolved(self, raw):
        """The spec document with each space at its value in `raw` (repeat forms expanded)."""
        return resolve(self.doc, lambda name, space: self.decode(name, raw.get(name, default_value(space))))
