"""The JSON Schema of specs (draft 2020-12), shipped as package data.

`load_schema()` reads `spec-v1.schema.json`; `archbuilder.schema.generate` is how
that file is made. Importing this package imports no backend and no NumPy.
"""

import functools
import importlib.resources
import json

__all__ = ["load_schema", "SCHEMA_ID", "SCHEMA_FILENAME"]

SCHEMA_ID = "urn:archbuilder:spec:v1"
SCHEMA_FILENAME = "spec-v1.schema.json"


@functools.lru_cache(maxsize=None)
def load_schema():
    """Returns the spec schema as a dict (cached and shared: do not modify it)."""
    text = importlib.resources.files(__name__).joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8")
    return json.loads(text)
