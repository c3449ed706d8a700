"""`archbuilder new`: a spec written from the answers to a family's design steps."""

from archbuilder.families import get_family

__all__ = ["ask_spec"]


def _ints(text):
    return [int(t) for t in str(text).replace(",", " ").split()]


def _asker(ask):
    """`q(question, default, kind)` over a `click.prompt`-like `ask`; with no `ask`, every answer is its default."""
    if ask is None:
        return lambda question, default, kind=str: default

    def prompt(question, default, kind=str):
        if kind is list:
            return _ints(ask(question, default=" ".join(map(str, default))))
        return ask(question, default=default, type=kind)

    return prompt


def ask_spec(family, ask=None, name=None):
    """Builds a spec for `family` from the answers to its design steps.

    Args:
        family: a registered family's name (`archbuilder.families.family_names()`).
        ask: `click.prompt`-like callable, or None to take every default.
        name: the spec's name (default: `my_<family>`).

    Returns:
        The spec document (not yet validated).
    """
    q = _asker(ask)
    name = name or q("Name of the model", f"my_{family}")
    return {"spec_version": 1, "name": name, "family": family, **get_family(family).questions(q)}
