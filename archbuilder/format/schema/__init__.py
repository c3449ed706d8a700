"""The JSON Schema of specs (draft 2020-12), shipped as package data.

`load_schema()` reads `spec-v1.schema.json`; `archbuilder.spec.schema` is how that
file is made (from the shared sections here and each family's own); `spec_validator()` is the validator archbuilder checks specs
with. Importing this package imports no backend and no NumPy.
"""

import functools
import importlib.resources
import json

from jsonschema import Draft202012Validator
from jsonschema import validators

__all__ = ["load_schema", "spec_validator", "SpecValidator", "SCHEMA_ID", "SCHEMA_FILENAME"]

SCHEMA_ID = "urn:archbuilder:spec:v1"
SCHEMA_FILENAME = "spec-v1.schema.json"


@functools.lru_cache(maxsize=None)
def load_schema():
    """Returns the spec schema as a dict (cached and shared: do not modify it)."""
    text = importlib.resources.files(__name__).joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8")
    return json.loads(text)


def _is_integer(checker, instance):
    # JSON Schema counts 2.0 (and 1e300) as an integer; a spec's sizes and counts are
    # passed to Keras as Python ints, so only a literal integer is one.
    return isinstance(instance, int) and not isinstance(instance, bool)


SpecValidator = validators.extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer))
SpecValidator.__doc__ = "Draft 2020-12 validation whose `integer` excludes floats such as 2.0."


@functools.lru_cache(maxsize=None)
def spec_validator():
    """The validator of specs: draft 2020-12 against `load_schema()`, with `SpecValidator`'s integers.

    Editors that read the schema accept `"units": 2.0` (JSON Schema counts it as an
    integer); archbuilder does not, so that a size is always an int for Keras.
    """
    return SpecValidator(load_schema())
