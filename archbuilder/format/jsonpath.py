"""The one JSON-path grammar of archbuilder's messages, overrides and hyperparameter names.

A path is `$` followed by steps: `.key` for a key that is an identifier, `[N]` for a
list index and `["any key"]` (a JSON string) for any other key:
`$.conv[1].filters`, `$.training.class_weight["T-shirt/top"]`. A hyperparameter's
name is its path without the leading `$.` (`conv[1].filters`). `--set` paths may
leave out the `$.` and may use dotted keys with hyphens (`data.max-x`), which
`keys` reads as the same key `["max-x"]` would be.
"""

import json
import re

__all__ = ["join", "keys", "format_keys", "name", "from_name", "walk"]

_STEP = re.compile(r'\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def join(path, key):
    """The JSON path of `key` (a str or int) under `path`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def format_keys(steps, root="$"):
    """The JSON path of a list of keys and indices, e.g. `["conv", 1, "filters"]` -> `$.conv[1].filters`."""
    path = root
    for step in steps:
        path = join(path, step)
    return path


def keys(path):
    """The keys and indices of a path: `$.conv[1].filters` (or `conv[1].filters`) -> `["conv", 1, "filters"]`.

    Raises:
        ValueError: `path` does not follow the grammar (the message says where).
    """
    shown = path.strip().removeprefix("$").removeprefix(".")
    text = path.strip().removeprefix("$")
    if text and not text.startswith((".", "[")):
        text = "." + text
    steps, pos = [], 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if not m:
            raise ValueError(f"cannot read the path {shown!r} (e.g. training.epochs or conv[0].filters)")
        key, index, quoted = m.groups()
        steps.append(key if key is not None else int(index) if index is not None else json.loads(quoted))
        pos = m.end()
    return steps


def name(path):
    """The hyperparameter name of a path: `$.conv[1].filters` -> `conv[1].filters`."""
    return path[2:] if path.startswith("$.") else path[1:] if path.startswith("$") else path


def from_name(hp_name):
    """The path of a hyperparameter name: `conv[1].filters` -> `$.conv[1].filters`."""
    return "$" + (hp_name if hp_name.startswith("[") else "." + hp_name)


def walk(doc, steps):
    """Yields `(step, node)` going down `doc` along `steps`, stopping where a step does not exist."""
    node = doc
    for step in steps:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(step, str) and isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return
        yield step, node
