"""What `tune --resume` reads back, checked: keras-tuner's project files, and a finished search's results.

keras-tuner reloads a project by reading `tuner/oracle.json`, `tuner/tuner0.json` and
every `tuner/trial_*/trial.json` (archbuilder adds `build_config.json` and its own
record per trial); a damaged one makes it fail deep inside with a bare `KeyError` or
`JSONDecodeError`. Here each file is read first, and any failure of the reload itself
becomes one line naming the file (or the project) and saying that `--overwrite` starts
the search afresh. A finished search's `best.json`, `trials.csv` and
`best_model.keras` are read back the same way.
"""

import contextlib
import glob
import json
import os

from archbuilder.errors import ArchbuilderError
from archbuilder.tuning.tuners import PROJECT

__all__ = ["AFRESH", "check_project", "reloading", "read_finished", "chosen_score"]

AFRESH = "--overwrite starts the search afresh"
_MAX_BYTES = 64 * 1024 * 1024


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _read_object(path, what):
    """A JSON object from `path`, or ArchbuilderError naming the file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(_MAX_BYTES + 1)
        if len(text) > _MAX_BYTES:
            raise ValueError(f"over {_MAX_BYTES:,} bytes")
        value = json.loads(text)
    except (OSError, ValueError, RecursionError) as e:
        raise ArchbuilderError(f"{path}: cannot {what}: the file is damaged ({_first_line(e)}); {AFRESH}") from None
    if not isinstance(value, dict):
        raise ArchbuilderError(f"{path}: cannot {what}: the file holds {type(value).__name__}, not a JSON object; "
                               f"{AFRESH}")
    return value


def check_project(run_dir):
    """Reads every state file of the keras-tuner project in `run_dir` before keras-tuner does.

    Raises:
        ArchbuilderError: `FILE: cannot resume the search: ...; --overwrite starts the search afresh`.
    """
    project = os.path.join(run_dir, PROJECT)
    files = [os.path.join(project, "oracle.json")] + sorted(glob.glob(os.path.join(project, "tuner*.json")))
    for trial_dir in sorted(glob.glob(os.path.join(project, "trial_*"))):
        files += [os.path.join(trial_dir, name) for name in ("trial.json", "build_config.json", "archbuilder.json")]
    for path in files:
        if os.path.exists(path):
            state = _read_object(path, "resume the search")
            if path.endswith("trial.json") and not {"trial_id", "hyperparameters", "status"} <= set(state):
                raise ArchbuilderError(f"{path}: cannot resume the search: not a keras-tuner trial (no trial_id, "
                                       f"hyperparameters or status); {AFRESH}")


@contextlib.contextmanager
def reloading(run_dir):
    """Turns a failure of keras-tuner's reload of `run_dir`'s project into one line."""
    try:
        yield
    except ArchbuilderError:
        raise
    except Exception as e:  # keras-tuner raises KeyError, TypeError, ValueError... for a damaged state
        raise ArchbuilderError(f"{os.path.join(run_dir, PROJECT)}: cannot resume the search: keras-tuner cannot "
                               f"reload it ({type(e).__name__}: {_first_line(e)}); {AFRESH}") from None


def read_finished(run):
    """`(best spec, trials frame)` of a finished search in the `RunDir` `run`, each file checked.

    Raises:
        ArchbuilderError: `best.json` or `trials.csv` missing or damaged, naming the file.
    """
    import pandas as pd

    best = _read_object(run.file("best.json"), "read the finished search")
    path = run.file("trials.csv")
    try:
        trials = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ArchbuilderError(f"{path}: cannot read the finished search: the file is damaged ({_first_line(e)}); "
                               f"{AFRESH}") from None
    if "trial_id" not in trials.columns:
        raise ArchbuilderError(f"{path}: cannot read the finished search: no trial_id column; {AFRESH}")
    return best, trials


def chosen_score(run, best, trials):
    """With several objectives: the score of the trial `tuning.select` chose (its pareto/ID.json is best.json)."""
    folder = run.file("pareto")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                if not name.endswith(".json") or json.load(f) != best:
                    continue
        except (OSError, ValueError):  # a damaged member of the front is not the choice
            continue
        rows = trials.loc[trials["trial_id"].astype(str) == name[:-5], "score"].dropna()
        if not rows.empty:
            return float(rows.iloc[0])
    return None
