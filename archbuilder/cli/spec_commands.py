"""`archbuilder validate`, `render`, `schema`, `new` and `build`: the spec side of the command line.

`validate`, `render`, `schema` and `new` import no backend; `build` imports Keras.
"""

import functools
import json
import os
import sys

import click

from archbuilder.cli.common import CONTEXT
from archbuilder.cli.common import fail
from archbuilder.cli.common import guard_outputs
from archbuilder.cli.common import handle_errors
from archbuilder.cli.common import load_cli_spec
from archbuilder.cli.common import overrides_of
from archbuilder.cli.common import spec_options
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.families import family_names
from archbuilder.format import defaults as D

__all__ = ["COMMANDS"]


@click.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one line per problem on stderr; json: a list of {file, path, message} on stdout.")
@click.option("--max-params", type=float, default=D.MAX_PARAMS, show_default=True,
              help="Refuse models with more parameters than this (static count, no weights allocated).")
@spec_options
@handle_errors
def validate(specs, fmt, max_params, overrides, seed, quiet):
    """Check SPEC files: every error of every file, then exit 1; `FILE: ok (N params)` per good file."""
    from archbuilder.spec.load import load_spec

    problems = []
    for path in specs:
        try:
            spec = load_spec(path, overrides_of(overrides, seed), max_params=max_params)
        except SpecErrors as e:
            problems += e.errors
            continue
        except SpecError as e:
            problems.append(e)
            continue
        if fmt == "text":
            click.echo(f"{path}: ok ({spec.plan.params:,} params)")
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in problems], indent=1))
    else:
        for p in problems:
            click.echo(str(p), err=True)
    sys.exit(1 if problems else 0)


@click.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@spec_options
@handle_errors
def render(spec, overrides, seed, quiet):
    """Print SPEC with every default filled in (it validates again)."""
    click.echo(json.dumps(load_cli_spec(spec, overrides, seed).rendered(), indent=2))


@click.command(context_settings=CONTEXT)
def schema():
    """Print the JSON Schema of specs (draft 2020-12), for editors via "$schema"."""
    from archbuilder.format.schema import load_schema

    click.echo(json.dumps(load_schema(), indent=1))


def _stdin_is_a_terminal():
    return sys.stdin.isatty()


def _say(line):
    click.echo(line, err=True)


@click.command(context_settings=CONTEXT)
@click.argument("family", type=click.Choice(family_names(), case_sensitive=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="Write here (default: stdout).")
@click.option("--overwrite", is_flag=True, help="Replace the -o file if it exists.")
@click.option("--defaults", is_flag=True, help="Do not ask: write the family's default design.")
@handle_errors
def new(family, out, overwrite, defaults):
    """Ask the design questions of FAMILY (data, input size, layers, ...) and write a valid spec.

    Each answer is checked as it is given and asked again with the reason. The
    questions go to stderr, so `archbuilder new cnn > my.json` works too.
    """
    from archbuilder.atomic import atomic_write_text
    from archbuilder.spec.load import load_spec
    from archbuilder.spec.questions import ask_spec

    guard_outputs([("-o", out)], overwrite=overwrite)  # before the questions: no answer is lost to it
    if not defaults and not _stdin_is_a_terminal():
        fail(["archbuilder new: no terminal to ask the design questions; pass --defaults "
               "to write the default design"])
    prompt = None if defaults else functools.partial(click.prompt, err=True)
    doc = ask_spec(family.lower(), ask=prompt, say=_say, base_dir=os.path.dirname(out) if out else None)
    load_spec(doc, source=out or "<new>")
    text = json.dumps(doc, indent=2) + "\n"
    if out:
        atomic_write_text(out, text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


@click.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Where to save the model (default: NAME.keras).")
@click.option("--plot", type=click.Path(dir_okay=False), help="Also draw the model graph to this PNG.")
@click.option("--overwrite", is_flag=True, help="Replace the model (and --plot) files if they exist.")
@click.option("--defaults", is_flag=True, help="Build each search space's default instead of refusing.")
@spec_options
@handle_errors
def build(spec, out, plot, overwrite, defaults, overrides, seed, quiet):
    """Compile SPEC into a Keras model: layer table, parameter counts, saved .keras file."""
    path = spec
    spec = load_cli_spec(spec, overrides, seed, allow_spaces=defaults, what=f"build {spec}")
    out = out or f"{spec.name}.keras"
    guard_outputs([("-o", out), ("--plot", plot)], inputs=[path], overwrite=overwrite)
    from archbuilder.model.build import build_and_save

    report = build_and_save(spec, out, plot=plot, overwrite=overwrite)
    click.echo(report)


COMMANDS = [validate, render, schema, new, build]
