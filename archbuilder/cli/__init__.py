"""The `archbuilder` command line: thin commands over the Python API.

Exit codes: 0 success, 1 user error (spec, data, an output that exists or would
replace an input, a search stopped by its failure limit), 2 usage error (click's own,
and a file named on the command line that does not exist, --data paths included),
130 interrupted. Errors go to stderr, one
line each; results go to stdout. Keras is imported only by commands that build.
The commands live in `spec_commands` (validate, render, schema, new, build),
`run_commands` (train, evaluate, predict, compare) and `tune_command` (tune).
"""

import click

from archbuilder.cli import run_commands
from archbuilder.cli import spec_commands
from archbuilder.cli import tune_command
from archbuilder.cli.common import CONTEXT
from archbuilder.cli.common import fail

__all__ = ["cli", "main"]


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


for _command in spec_commands.COMMANDS + run_commands.COMMANDS + tune_command.COMMANDS:
    cli.add_command(_command)


def main():
    try:
        cli(prog_name="archbuilder")
    except KeyboardInterrupt:
        fail(["archbuilder: interrupted"], 130)


if __name__ == "__main__":
    main()
