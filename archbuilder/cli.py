"""The `archbuilder` command line: thin commands over the Python API.

Exit codes: 0 success, 1 user error (spec, data, a search stopped by its failure
limit), 2 usage error (click's own), 130 interrupted. Errors go to stderr, one
line each; results go to stdout. Keras is imported only by commands that build.
The commands that train live in cli_train.py and cli_tune.py.
"""

import json
import sys

import click

from archbuilder import defaults as D
from archbuilder.cli_common import CONTEXT
from archbuilder.cli_common import fail
from archbuilder.cli_common import handle_errors
from archbuilder.cli_common import load_cli_spec
from archbuilder.cli_common import overrides_of
from archbuilder.cli_common import spec_options
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors

@click.group(context_settings=CONTEXT)
@click.version_option(package_name="archbuilder", prog_name="archbuilder")
def cli():
    """archbuilder: a JSON design of a network -> a validated, trained and tuned Keras 3 model.

    \b
    Typical session:
      archbuilder new cnn -o my_cnn.json      # answer the design questions
      archbuilder validate my_cnn.json         # every problem at once, no backend needed
      archbuilder build my_cnn.json            # layer table, params, saved .keras model
      archbuilder train my_cnn.json --data mnist1d
      archbuilder tune my_cnn.json --max-trials 10
    """


@cli.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one line per problem on stderr; json: a list of {file, path, message} on stdout.")
@click.option("--max-params", type=float, default=D.MAX_PARAMS, show_default=True,
              help="Refuse models with more parameters than this (static count, no weights allocated).")
@spec_options
@handle_errors
def validate(specs, fmt, max_params, overrides, seed, quiet):
    """Check SPEC files: every error of every file, then exit 1; `FILE: ok (N params)` per good file."""
    from archbuilder.spec import load_spec

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


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@spec_options
@handle_errors
def render(spec, overrides, seed, quiet):
    """Print SPEC with every default filled in (it validates again)."""
    click.echo(json.dumps(load_cli_spec(spec, overrides, seed).rendered(), indent=2))


@cli.command(context_settings=CONTEXT)
def schema():
    """Print the JSON Schema of specs (draft 2020-12), for editors via "$schema"."""
    from archbuilder.schema import load_schema

    click.echo(json.dumps(load_schema(), indent=1))


def _stdin_is_a_terminal():
    return sys.stdin.isatty()


@cli.command(context_settings=CONTEXT)
@click.argument("family", type=click.Choice(["cnn", "rnn", "autoencoder"]))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="Write here (default: stdout).")
@click.option("--defaults", is_flag=True, help="Do not ask: write the family's default design.")
@handle_errors
def new(family, out, defaults):
    """Ask the design steps of FAMILY and write a valid spec."""
    from archbuilder.questions import ask_spec
    from archbuilder.spec import load_spec

    if not defaults and not _stdin_is_a_terminal():
        fail(["archbuilder new: no terminal to ask the design questions; pass --defaults "
               "to write the default design"])
    doc = ask_spec(family, ask=None if defaults else click.prompt)
    load_spec(doc, source=out or "<new>")
    text = json.dumps(doc, indent=2) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Where to save the model (default: NAME.keras).")
@click.option("--plot", type=click.Path(dir_okay=False), help="Also draw the model graph to this PNG.")
@click.option("--defaults", is_flag=True, help="Build each search space's default instead of refusing.")
@spec_options
@handle_errors
def build(spec, out, plot, defaults, overrides, seed, quiet):
    """Compile SPEC into a Keras model: layer table, parameter counts, saved .keras file."""
    spec = load_cli_spec(spec, overrides, seed, allow_spaces=defaults, what=f"build {spec}")
    from archbuilder.building import build_and_save

    report = build_and_save(spec, out or f"{spec.name}.keras", plot=plot)
    click.echo(report)


def _add_commands():
    from archbuilder import cli_train
    from archbuilder import cli_tune

    for command in cli_train.COMMANDS + cli_tune.COMMANDS:
        cli.add_command(command)


_add_commands()


def main():
    try:
        cli(prog_name="archbuilder")
    except KeyboardInterrupt:
        fail(["archbuilder: interrupted"], 130)


if __name__ == "__main__":
    main()
