"""The family registry: every architecture family is one folder here plus one registration line.

A family (`cnn`, `rnn`, `autoencoder`, `custom`, ...) is a `Family`: its schema
section, defaults, checks, outputs, static plan and `new` questions — all without a
backend — and the name of its Keras builder module, imported the first time a
model of the family is built. The schema generator, the spec loader, the planner,
`archbuilder new` and `build_model` ask the registry; no other module names a family.

Adding a family: a folder `archbuilder/families/<name>/` whose `__init__.py`
defines `FAMILY = Family(...)`, and its name in `BUILTIN` below.

Example:
    >>> from archbuilder.families import get_family
    >>> get_family("rnn").outputs(doc)[0].loss_path
    '$.training.loss'
"""

import dataclasses
import importlib
from typing import Callable

from archbuilder.errors import SpecError
from archbuilder.text import did_you_mean

__all__ = ["Family", "register_family", "get_family", "family_names", "BUILTIN"]

BUILTIN = ("cnn", "rnn", "autoencoder", "custom", "mlp")


def _no_checks(doc):
    return ()


def _no_files(doc):
    return []


def _no_integers(doc):
    return False


@dataclasses.dataclass(frozen=True)
class Family:
    """One architecture family.

    Attributes:
        name: the `family` value of its specs.
        description: one line for the schema and `archbuilder new --help`.
        schema: `schema(b, shared) -> (properties, required)`: its top-level keys, built
            with the schema `Builder` `b` and the shared `$defs` in `shared` (`conv_item`,
            `dense_item`, `output`, `loss`, `regularization`, `pool`).
        fill: `fill(doc)`: fills the family's defaults into a rendered spec in place
            (search spaces kept).
        concretize: `concretize(doc, activation)`: expands a filled spec with no spaces
            left into the concrete spec the plan and the builder read, in place.
        outputs: `outputs(doc) -> [Output]`: the model's outputs (`archbuilder.format.outputs`),
            for a rendered or a concrete spec.
        plan: `plan(planner, shape)`: the static plan of a concrete spec.
        questions: `questions(q) -> dict`: the design questions of `archbuilder new`, asked
            through `q` (`archbuilder.spec.questions.Questions`: `q.data`, `q.size`, `q.number`,
            `q.each`, `q.choice`, `q.yes`, `q.units`, each checking its answer at once);
            returns the spec's family keys and its `data`.
        builder: the module holding `build(spec, graph) -> (inputs, outputs, code)`,
            the Keras side.
        checks: `checks(doc) -> [(json_path, message)]`: semantic checks of a
            schema-valid spec (spaces kept).
        concrete_checks: likewise, of the spec's default configuration made concrete.
        hidden_activation: whether the top-level `activation` applies (not for `custom`).
        files: `files(doc) -> [[key, ...]]`: where a spec names files (a backbone model),
            as key lists; relative paths there are relative to the spec file, like data paths.
        reads_integers: `reads_integers(doc) -> bool`: whether the spec's first layer takes
            integer inputs as they are (an embedding); if not, an integer `input.dtype` is refused.
    """

    name: str
    description: str
    schema: Callable
    fill: Callable
    concretize: Callable
    outputs: Callable
    plan: Callable
    questions: Callable
    builder: str
    checks: Callable = _no_checks
    concrete_checks: Callable = _no_checks
    hidden_activation: bool = True
    files: Callable = _no_files
    reads_integers: Callable = _no_integers

    def build(self, spec, graph):
        """Builds the Keras graph of a concrete spec with the family's builder (imported on first use)."""
        return importlib.import_module(self.builder).build(spec, graph)


_REGISTRY = {}


def register_family(family):
    """Registers `family` under its name (replacing a family of that name); returns it."""
    _REGISTRY[family.name] = family
    return family


def _load_builtin():
    if not _REGISTRY:
        for name in BUILTIN:
            register_family(importlib.import_module(f"{__name__}.{name}").FAMILY)


def family_names():
    """The names of every registered family, built-in ones first."""
    _load_builtin()
    return list(_REGISTRY)


def get_family(name):
    """The registered `Family` called `name`.

    Raises:
        SpecError: at `$.family` when no family has that name.
    """
    _load_builtin()
    if name not in _REGISTRY:
        raise SpecError("$.family", f"unknown family {name!r}{did_you_mean(name, _REGISTRY)}; expected one of "
                                    f"{', '.join(_REGISTRY)}")
    return _REGISTRY[name]
