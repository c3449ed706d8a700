"""`archbuilder tune`: search a spec's open choices with keras-tuner."""

import click

from archbuilder.cli.common import CONTEXT
from archbuilder.cli.common import MLFLOW_OPTION
from archbuilder.cli.common import data_option
from archbuilder.cli.common import handle_errors
from archbuilder.cli.common import interrupted
from archbuilder.cli.common import overrides_of
from archbuilder.cli.common import spec_options
from archbuilder.format.schema.vocabulary import TUNERS

__all__ = ["COMMANDS", "tune"]


class _PackSize(click.ParamType):
    """`--pack`: a number of trials (at least 1) or `auto`."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, int):
            return value
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"{value!r} is neither a number of trials (1 or more) nor 'auto'", param, ctx)
        return number


@click.command(context_settings=CONTEXT)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@data_option("Data to search on (overrides the spec's `data`): JSON, a path or a dataset name.")
@click.option("--tuner", type=click.Choice(list(TUNERS)), help="Search algorithm (overrides tuning.tuner).")
@click.option("--max-trials", type=click.IntRange(min=1), help="Models to try (overrides tuning.max_trials).")
@click.option("--max-time", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Start no new trial after this many seconds (overrides tuning.max_time).")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs of each trial (overrides training.epochs).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override training.batch_size.")
@click.option("--out", type=click.Path(file_okay=False), help="Run directory (default runs/<name>-<time>).")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--resume", is_flag=True, help="Continue the search in --out: finished trials are kept.")
@click.option("--workers", type=click.IntRange(min=0), metavar="N",
              help="keras-tuner's distributed mode: a chief oracle and N supervised worker processes "
                   "(one GPU each where there are several).")
@click.option("--pack", type=_PackSize(), metavar="N|auto",
              help="Train N trials together as one compiled program on JAX, or 'auto' for the largest pack "
                   "that fits the device's memory (overrides tuning.pack).")
@click.option("--warm-start", type=click.Path(exists=True), metavar="RUN_DIR|trials.csv|best.json",
              help="Try these points first: a previous run's completed trials (best first) or a best.json.")
@MLFLOW_OPTION
@spec_options
@handle_errors
def tune(spec, data, tuner, max_trials, max_time, epochs, batch_size, out, overwrite, resume, workers, pack, warm_start,
         mlflow, overrides, seed, quiet):
    """Search the open choices of SPEC: a live trial table, then trials.csv, best.json and best_model.keras.

    \b
    Every finished trial prints one line: id, score, best so far, seconds, hyperparameters.
    A failed trial (build error, NaN loss, out of memory) is recorded with its reason and
    the search goes on, until tuning.max_consecutive_failed_trials fail in a row (exit 1).
    With a list of objectives: pareto.csv, pareto/ and pareto.png besides.
    """
    if overwrite and resume:
        raise click.UsageError("--overwrite and --resume exclude each other")
    from archbuilder.tuning.search import tune as run_tune

    try:
        run_tune(spec, data, tuner=tuner, max_trials=max_trials, max_time=max_time, epochs=epochs,
                 batch_size=batch_size, out=out, overwrite=overwrite, resume=resume, workers=workers,
                 overrides=overrides_of(overrides, seed), quiet=quiet, pack=pack, mlflow=mlflow, warm_start=warm_start)
    except KeyboardInterrupt as e:
        interrupted("tune", spec, e)


COMMANDS = [tune]
