"""`archbuilder train`, `evaluate`, `predict`, `compare` and `export`: thin commands over the Python API.

Results go to stdout (the summary line, metrics JSON, prediction CSV, the
Markdown table); Keras's progress output goes to stderr with the messages, so
`archbuilder train SPEC | tail -1` or `archbuilder predict RUN x.npy > p.csv`
see only results.
"""

import contextlib
import json
import os
import sys

import click

from archbuilder.cli.common import CONTEXT
from archbuilder.cli.common import MLFLOW_OPTION
from archbuilder.cli.common import data_option
from archbuilder.cli.common import data_paths
from archbuilder.cli.common import fail
from archbuilder.cli.common import guard_outputs
from archbuilder.cli.common import handle_errors
from archbuilder.cli.common import interrupted
from archbuilder.cli.common import load_cli_spec
from archbuilder.cli.common import overrides_of
from archbuilder.cli.common import spec_options
from archbuilder.format import defaults as D

__all__ = ["COMMANDS", "train", "evaluate", "predict", "compare", "export"]

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
@data_option(DATA_HELP)
@click.option("--epochs", type=click.IntRange(min=1), help="Override training.epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override training.batch_size.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Run directory (default: runs/<name>-<YYYYmmdd-HHMMSS>); refused if it exists.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out from its last completed epoch.")
@click.option("--defaults", is_flag=True, help="Train each search space's default instead of refusing.")
@MLFLOW_OPTION
@spec_options
@handle_errors
def train(spec, data, epochs, batch_size, out, overwrite, resume, defaults, mlflow, overrides, seed, quiet):
    """Train SPEC and write a run directory (model, metrics, curves, history, logs).

    \b
    Examples:
      archbuilder train specs/mnist1d_cnn.json
      archbuilder train my.json --data '{"path": "d.csv", "target": "y"}' --epochs 5 --out runs/try1
      archbuilder train my.json --out runs/try1 --resume     # after an interruption
    """
    if overwrite and resume:
        fail(["archbuilder train: --overwrite and --resume exclude each other"], 2)
    from archbuilder.run.train import finished_line
    from archbuilder.run.train import run_training
    from archbuilder.run.train import size_overrides
    from archbuilder.run.train_result import summary_line

    loaded = load_cli_spec(spec, overrides, seed, allow_spaces=defaults, what=f"train {spec}",
                           pairs=size_overrides(epochs, batch_size))

    try:
        with _progress_to_stderr():
            result = run_training(loaded, data, out=out, overwrite=overwrite, resume=resume, quiet=quiet,
                                  defaults=defaults, verbose=_verbose(quiet), mlflow=mlflow)
    except KeyboardInterrupt as e:
        interrupted("train", spec, e)
    if result.finished_before:
        click.echo(finished_line(result))
    else:
        click.echo(summary_line(result))


@click.command(context_settings=CONTEXT)
@click.argument("run", type=click.Path(exists=True))
@data_option(DATA_HELP + " Default: the data the run was trained on.")
@click.option("--batch-size", type=click.IntRange(min=1),
              help="Batch size (default: the run's, or a size near it that divides the data).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: the report as a table; json: all of it (the metrics.json figures included).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Also write report.json, confusion.csv, confusion.png / regression.png into this folder.")
@click.option("--overwrite", is_flag=True, help="Replace report files already in --out.")
@click.option("--max-params", type=click.IntRange(min=0), default=D.MAX_PARAMS, show_default=True,
              help=MAX_PARAMS_HELP)
@handle_errors
def evaluate(run, data, batch_size, output_format, out, overwrite, max_params):
    """The evaluation report of RUN (a run directory, a tune run or a .keras file) on a test split.

    Classifiers: accuracy, precision / recall / F1 / support per class, the confusion
    matrix, top-3 / top-5 accuracy over 5 classes; regression: MAE, RMSE, R²;
    autoencoders: reconstruction error per sample and code sparsity.
    """
    from archbuilder.run.evaluation import report_text
    from archbuilder.run.figures import REPORT_FILES
    from archbuilder.run.inference import evaluate as evaluate_run

    if out:
        guard_outputs([("--out", os.path.join(out, name)) for name in REPORT_FILES], [run, *data_paths(data)],
                      overwrite)

    report = evaluate_run(run, data, batch_size=batch_size, out=out, max_params=max_params)
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(report_text(report, f"{report['model']}: {report['samples']} test samples of {report['data']}"),
                   nl=False)
    if out:
        click.echo(f"wrote {', '.join(os.path.join(out, name) for name in report['files'])}", err=True)


@click.command(context_settings=CONTEXT)
@click.argument("run", type=click.Path(exists=True))
@click.argument("inputs", type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write here: .npy for the raw output array, else CSV (default: CSV on stdout).")
@click.option("--overwrite", is_flag=True, help="Replace the -o file if it exists.")
@click.option("--batch-size", type=click.IntRange(min=1), default=D.TRAINING["batch_size"], show_default=True)
@click.option("--max-params", type=click.IntRange(min=0), default=D.MAX_PARAMS, show_default=True,
              help=MAX_PARAMS_HELP)
@handle_errors
def predict(run, inputs, output, overwrite, batch_size, max_params):
    """Predict INPUTS (.npy, .npz, .csv, an image or an image folder) with RUN (a run directory or .keras).

    INPUTS are raw, as the training data was (CSV columns are matched by name); the model
    scales and standardizes them itself. The CSV has `prediction` (the class name where
    known) and one probability column per class; regression models give `prediction`.
    """
    from archbuilder.run.inference import predict as predict_run

    guard_outputs([("-o", output)], [run, inputs], overwrite)
    frame = predict_run(run, inputs, output=output, batch_size=batch_size, max_params=max_params)
    if output:
        click.echo(f"wrote {output} ({len(frame)} predictions)", err=True)
    else:
        click.echo(frame.to_csv(index=False, float_format="%.6g"), nl=False)


@click.command(context_settings=CONTEXT)
@click.argument("specs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@data_option(DATA_HELP + " Default: each spec's own.")
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

    Writes OUT/comparison.csv and OUT/comparison.png (a bar chart) too. Regressions are
    scored by test MAE in their own column; specs of different tasks or trained on
    different data are kept apart in the table and the chart, with a note on stderr.
    """
    from archbuilder.run.compare import compare as compare_specs

    with _progress_to_stderr():
        result = compare_specs(list(specs), data, epochs=epochs, batch_size=batch_size, out=out, quiet=quiet,
                               overrides=overrides_of(overrides, seed), verbose=_verbose(quiet))
    click.echo(result.markdown())
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {result.out}/comparison.csv, {result.out}/comparison.png", err=True)


@click.command(context_settings=CONTEXT)
@click.argument("run", type=click.Path(exists=True))
@click.option("--format", "export_format", type=click.Choice(D.EXPORT_FORMATS), required=True,
              help="saved_model: a TensorFlow SavedModel folder; onnx: an ONNX file; litert: a LiteRT .tflite file.")
@click.option("-o", "--output", type=click.Path(),
              help="The artifact's path (default beside the model: model.onnx, model.tflite, model_saved_model/).")
@data_option(DATA_HELP + " Default: the run's test split (random inputs for a bare .keras).")
@click.option("--tolerance", type=click.FloatRange(min=0.0), default=D.EXPORT["tolerance"], show_default=True,
              help="Largest accepted |artifact - Keras| / (1 + |Keras|) on the samples checked.")
@click.option("--overwrite", is_flag=True, help="Replace an artifact already at the path.")
@handle_errors
def export(run, export_format, output, data, tolerance, overwrite):
    """Export RUN (a run directory, a tune run or a .keras file) for serving; checked in the target runtime.

    The artifact takes the same raw inputs as the .keras file (its preprocessing is inside)
    with a dynamic batch axis. It is run on up to 256 test samples and compared with Keras
    before it is kept; labels.json beside it names the classes, inputs and outputs.

    \b
    Examples:
      archbuilder export runs/wine_mlp-20261201-101500 --format onnx
      archbuilder export model.keras --format litert -o phone/model.tflite
    """
    from archbuilder.run.export import export as export_model

    result = export_model(run, export_format, output, data=data, tolerance=tolerance, overwrite=overwrite)
    extra = "".join(f", {label} {gap:.3g}" for label, gap in result["differences"].items()
                    if label not in ("keras (tensorflow)", "batch of 1"))
    notes = f"; exported {', '.join(result['notes'])}" if result["notes"] else ""
    click.echo(f"wrote {result['path']} and {result['labels']} ({result['format']}{notes}; checked on "
               f"{result['samples']} {result['checked_on']}: largest absolute difference to Keras "
               f"{result['max_abs_diff']:.3g}{extra}; tolerance {result['tolerance']:g})")


COMMANDS = [train, evaluate, predict, compare, export]
