"""What every archbuilder command shares: error handling, spec options, spec loading."""

import functools
import os
import sys

import click

from archbuilder.errors import ArchbuilderError

__all__ = ["CONTEXT", "MLFLOW_OPTION", "handle_errors", "spec_options", "overrides_of", "load_cli_spec", "fail"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

MLFLOW_OPTION = click.option(
    "--mlflow", metavar="URI",
    help="Also log to MLflow at URI (a folder such as mlruns, sqlite:///mlflow.db, http://host:5000); "
         "needs the mlflow extra. Experiment: $MLFLOW_EXPERIMENT_NAME, else the spec's name.")


def fail(lines, code=1):
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def handle_errors(command):
    """Turns archbuilder errors into one-line messages and exit codes, never tracebacks."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ArchbuilderError as e:
            fail(e.lines())
        except KeyboardInterrupt:
            fail(["archbuilder: interrupted"], 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except MemoryError:
            fail(["archbuilder: out of memory; try a smaller --batch-size, a smaller model or less data "
                  '("max_samples")'])
        except OSError as e:  # the machine's, not a bug: a file that cannot be read or written
            if os.environ.get("ARCHBUILDER_DEBUG") or not (e.filename or e.strerror):
                raise
            where = f"{e.filename}: " if e.filename else "archbuilder: "
            fail([f"{where}{e.strerror or e}"])
        except Exception as e:  # a bug: say so in one line, keep the traceback for debugging
            if os.environ.get("ARCHBUILDER_DEBUG"):
                raise
            first = (str(e).strip().splitlines() or [""])[0][:300]
            fail([f"archbuilder: internal error ({type(e).__name__}: {first}); "
                   "rerun with ARCHBUILDER_DEBUG=1 for the traceback and report it"])

    return wrapper


def spec_options(command):
    """`--set PATH=VALUE`, `--seed N` and `--quiet`, for every command that reads a spec."""
    command = click.option("--quiet", "-q", is_flag=True, help="Drop progress output.")(command)
    command = click.option("--seed", type=int, default=None,
                           help="Short for --set training.seed=N.")(command)
    command = click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
                           help="Override a spec value before validation, e.g. --set training.epochs=3 "
                                "(VALUE is read as JSON, else as a string). Repeatable.")(command)
    return command


def overrides_of(overrides, seed, *pairs):
    """`--set PATH=VALUE` texts, `--seed` and other flags, as one list of overrides (`archbuilder.spec.overrides`)."""
    return list(overrides) + ([("training.seed", seed)] if seed is not None else []) + list(pairs)


def load_cli_spec(path, overrides, seed, allow_spaces=True, what=None, pairs=()):
    """The command's one load of its SPEC, with every override; open spaces refused unless `allow_spaces`."""
    from archbuilder.spec.load import load_spec

    spec = load_spec(path, overrides_of(overrides, seed, *pairs))
    if not allow_spaces:
        spec.require_concrete(what)
    return spec
