"""`archbuilder train`, `evaluate`, `predict` and `compare`: thin commands over the Python API.

Results go to stdout (the summary line, metrics JSON, prediction CSV, the
Markdown table); Keras's progress output goes to stderr with the messages, so
`archbuilder train SPEC | tail -1` or `archbuilder predict RUN x.npy > p.csv`
see only results.
"""

import contextlib
import json
import sys

import click

from archbuilder.cli.common import CONTEXT
from archbuilder.cli.common import fail
from archbuilder.cli.common import handle_errors
from archbuilder.cli.common import load_cli_spec
from archbuilder.cli.common import overrides_of
from archbuilder.cli.common import spec_options
from archbuilder.format import defaults as D

__all__ = ["COMMANDS", "train", "evaluate", "predict", "compare"]

MAX_PARAMS_HELP = "Refuse a model file that declares more parameters (counted from its config, before loading)."
DATA_HELP = ("Data to use instead of the spec's `data`: a dataset name (mnist1d, fashion_mnist), a path "
             "(.npz, .npy, .csv, image folder) or JSON such as '{\"path\": \"t.csv\", \"target\": \"label\"}'.")


def _verbose(quiet):
    """Keras's verbose: a live bar on a terminal, one line per epoch otherwise, nothing with --quiet."""
    if quiet:
        return 0
    return 1 if sys.stderr.isatty() else 2


@contextlib.contextmanager
def _progress_to_stderr():
    """Keras prints progress to stdout; here stdout is for results, so progress joins the messages."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


@click.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", help=DATA_HELP)
@click.option("--epochs", type=click.IntRange(min=1), help="Override training.epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override training.batch_size.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Run directory (default: runs/<name>-<YYYYmmdd-HHMMSS>); refused if it exists.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out from its last completed epoch.")
@click.option("--defaults", is_flag=True, help="Train each search space's default instead of refusing.")
@spec_options
@handle_errors
def train(spec, data, epochs, batch_size, out, overwrite, resume, defaults, overrides, seed, quiet):
    """Train SPEC and write a run directory (model, metrics, curves, history, logs).

    \b
    Examples:
      archbuilder train specs/mnist1d_cnn.json
      archbuilder train my.json --data '{"path": "d.csv", "target": "y"}' --epochs 5 --out runs/try1
      archbuilder train my.json --out runs/try1 --resume     # after an interruption
    """
    if overwrite and resume:
        fail(["archbuilder train: --overwrite and --resume exclude each other"], 2)
    from archbuilder.run.train import run_training
    from archbuilder.run.train import size_overrides
    from archbuilder.run.train import summary_line

    loaded = load_cli_spec(spec, overrides, seed, allow_spaces=defaults, what=f"train {spec}",
                           pairs=size_overrides(epochs, batch_size))

    try:
        with _progress_to_stderr():
            result = run_training(loaded, data, out=out, overwrite=overwrite, resume=resume, quiet=quiet,
                                  defaults=defaults, verbose=_verbose(quiet))
    except KeyboardInterrupt as e:
        run_dir = getattr(e, "run_dir", None)
        hint = f"; continue with: archbuilder train {spec} --out {run_dir} --resume" if run_dir else ""
        fail([f"archbuilder: interrupted{hint}"], 130)
    if result.finished_before:
        click.echo(f"{result.run_dir}: already finished (DONE exists); nothing to resume")
    else:
        click.echo(summary_line(result))


@click.command(context_settings=CONTEXT)
@click.argument("run", type=click.Path(exists=True))
@click.option("--data", help=DATA_HELP + " Default: the data the run was trained on.")
@click.option("--batch-size", type=click.IntRange(min=1),
              help="Batch size (default: the run's, or a size near it that divides the data).")
@click.option("--max-params", type=click.IntRange(min=0), default=D.MAX_PARAMS, show_default=True,
              help=MAX_PARAMS_HELP)
@handle_errors
def evaluate(run, data, batch_size, max_params):
    """Test metrics of RUN (a run directory or a .keras file) as JSON, with the preprocessing saved at training."""
    from archbuilder.run.inference import evaluate as evaluate_run

    click.echo(json.dumps(evaluate_run(run, data, batch_size=batch_size, max_params=max_params), indent=2))


@click.command(context_settings=CONTEXT)
@click.argument("run", type=click.Path(exists=True))
@click.argument("inputs", type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write here: .npy for the raw output array, else CSV (default: CSV on stdout).")
@click.option("--batch-size", type=click.IntRange(min=1), default=D.TRAINING["batch_size"], show_default=True)
@click.option("--max-params", type=click.IntRange(min=0), default=D.MAX_PARAMS, show_default=True,
              help=MAX_PARAMS_HELP)
@handle_errors
def predict(run, inputs, output, batch_size, max_params):
    """Predict INPUTS (.npy, .npz, .csv, an image or an image folder) with RUN (a run directory or .keras).

    The CSV has `prediction` (the class name where known) and one probability
    column per class; regression models give `prediction`.
    """
    from archbuilder.run.inference import predict as predict_run

    frame = predict_run(run, inputs, output=output, batch_size=batch_size, max_params=max_params)
    if output:
        click.echo(f"wrote {output} ({len(frame)} predictions)", err=True)
    else:
        click.echo(frame.to_csv(index=False, float_format="%.6g"), nl=False)


@click.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--data", help=DATA_HELP + " Default: each spec's own.")
@click.option("--epochs", type=click.IntRange(min=1), default=D.TRAINING["epochs"], show_default=True,
              help="Epochs for every spec (overrides each spec's own).")
@click.option("--batch-size", type=click.IntRange(min=1), default=D.TRAINING["batch_size"], show_default=True,
              help="Batch size for every spec (overrides each spec's own).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Output folder (default: runs/compare-<YYYYmmdd-HHMMSS>); each run goes to OUT/<name>/.")
@spec_options
@handle_errors
def compare(specs, data, epochs, batch_size, out, overrides, seed, quiet):
    """Train each SPEC under the same data and budget; print `Architecture | Accuracy | Params | Train time`.

    Writes OUT/comparison.csv and OUT/comparison.png (a bar chart) too.
    """
    from archbuilder.run.compare import compare as compare_specs
    from archbuilder.run.compare import markdown_table

    with _progress_to_stderr():
        frame = compare_specs(list(specs), data, epochs=epochs, batch_size=batch_size, out=out, quiet=quiet,
                              overrides=overrides_of(overrides, seed), verbose=_verbose(quiet))
    click.echo(markdown_table(frame))
    folder = frame.attrs["out"]
    click.echo(f"wrote {folder}/comparison.csv, {folder}/comparison.png", err=True)


COMMANDS = [train, evaluate, predict, compare]
