"""What every archbuilder command shares: error handling, spec options, spec loading."""

import functools
import os
import shlex
import sys

import click

from archbuilder.errors import ArchbuilderError

__all__ = ["CONTEXT", "MLFLOW_OPTION", "handle_errors", "spec_options", "data_option", "overrides_of", "load_cli_spec",
           "fail", "guard_outputs", "data_paths", "interrupted"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

MLFLOW_OPTION = click.option(
    "--mlflow", metavar="URI",
    help="Also log to MLflow at URI (a folder such as mlruns, sqlite:///mlflow.db, http://host:5000); "
         "needs the mlflow extra. Experiment: $MLFLOW_EXPERIMENT_NAME, else the spec's name.")


def fail(lines, code=1):
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def interrupted(command, spec, error):
    """Exits 130 after Ctrl-C, with the command that continues the run when it has a run directory.

    The run directory records what the run was started with (--set, --seed, --epochs,
    --batch-size, --data, ...) and `--resume` reuses it, so the command is this short one.
    """
    run_dir = getattr(error, "run_dir", None)
    hint = (f"; continue with: archbuilder {command} {shlex.quote(str(spec))} --out {shlex.quote(str(run_dir))} "
            "--resume") if run_dir else ""
    fail([f"archbuilder: interrupted{hint}"], 130)


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
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
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


def _data_paths_of(value):
    """The files a `--data` value names (none for a dataset name), as given."""
    from archbuilder.data.parse import ARRAY_KEYS
    from archbuilder.data.parse import parse_data

    spec, _ = parse_data(value)
    return [spec[key] for key in ("path",) + ARRAY_KEYS if key in spec]


def _data_must_exist(ctx, param, value):
    """A `--data` path that does not exist is a usage error (exit 2), as a missing SPEC is."""
    if value is None:
        return value
    from archbuilder.errors import DataError

    try:
        missing = [p for p in _data_paths_of(value) if not os.path.exists(p)]
    except DataError as e:
        if e.message != "no such file or folder":
            return value  # another problem with the data: reported, exit 1, where it is read
        missing = [e.source]
    if missing:
        raise click.BadParameter(f"{missing[0]}: no such file or folder", ctx=ctx, param=param)
    return value


def data_option(help):
    """`--data D`: a dataset name, a path or JSON; a path that does not exist exits 2 (usage error)."""
    return click.option("--data", help=help, callback=_data_must_exist)


def data_paths(data):
    """The files and folders a `--data` value names (for `guard_outputs`); none for a dataset or None."""
    if data is None:
        return []
    try:
        return _data_paths_of(data)
    except ArchbuilderError:
        return []


def _same(a, b):
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def _replaces_input(path, given):
    """Whether writing `path` replaces the input `given`: the same file, or a file `given` (a folder) holds.

    In a run directory (it has a spec.json) only the model and JSON files are read, so its other
    files (history.csv, curves.png, an earlier export) are outputs that --overwrite may replace.
    """
    if _same(path, given):
        return True
    if not (os.path.isdir(given) and os.path.isfile(path) and _inside(path, given)):
        return False
    is_run = os.path.isfile(os.path.join(given, "spec.json"))
    return not is_run or path.endswith((".keras", ".json"))


def guard_outputs(files=(), inputs=(), overwrite=False):
    """Refuses outputs that would replace an input of the command, or an existing file without --overwrite.

    No output ever replaces a file named on the command line (SPEC, --data, RUN, INPUTS) or a
    file a folder named there holds (a run directory's model and JSON files), even with
    --overwrite; an output file that exists needs --overwrite. (A run directory's `--out` is
    checked by `RunDir.check`, which never empties a folder holding an input.)

    Args:
        files: `(option, path)` of each file the command writes (None paths are skipped).
        inputs: every file and folder the command reads, as named on its command line.
        overwrite: whether --overwrite was given.

    Raises:
        ArchbuilderError: `PATH: ...` naming the input the output would replace (exit 1).
    """
    inputs = [p for p in inputs if p and os.path.exists(p)]
    for option, path in files:
        if path is None:
            continue
        for given in inputs:
            if _replaces_input(path, given):
                raise ArchbuilderError(f"{path}: {option} would write over {given}, an input of this command; "
                                       "choose another path")
        if os.path.exists(path) and not overwrite:
            raise ArchbuilderError(f"{path}: exists; pass --overwrite to replace it")
