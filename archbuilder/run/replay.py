"""`--resume` replays the run's own command: the overrides and the data a run was started with.

`record` writes into the run's marker (`run.json`, `archbuilder.run.rundir.MARKER`) every
override the spec was loaded with (`--set`, `--seed`, `--epochs`, `--batch-size`, and
`tune`'s budget flags) as `{"path", "value"}` objects, and the `--data` it used (absolute
paths). `replay` gives them back on `--resume`: an override given again wins over the
recorded one of the same path (a larger `--epochs` extends a run), and `--data` given
again wins over the recorded data. So `archbuilder train SPEC --out RUN --resume` continues
the run that `archbuilder train SPEC --set 'conv[0].filters=8' --data d.csv --out RUN` began.
"""

from archbuilder.errors import ArchbuilderError
from archbuilder.format import jsonpath
from archbuilder.run.rundir import MARKER
from archbuilder.run.rundir import RunDir
from archbuilder.spec.load import load_spec
from archbuilder.spec.overrides import DELETE
from archbuilder.spec.overrides import as_pairs

__all__ = ["record", "replay", "recorded"]


def _written(keys, value):
    path = jsonpath.name(jsonpath.format_keys(keys))
    return {"path": path, "delete": True} if value is DELETE else {"path": path, "value": value}


def record(run, spec, data=None):
    """Records in `run`'s marker the overrides `spec` was loaded with and the data used (None: the spec's)."""
    marker = run.read_json(MARKER) or {}
    marker["overrides"] = [_written(keys, value) for keys, value in spec.overrides]
    marker["data"] = data
    run.write_json(MARKER, marker)


def recorded(out):
    """`(override pairs, data)` recorded in the run directory `out`; `([], None)` when none were.

    Raises:
        ArchbuilderError: the marker holds overrides that cannot be read.
    """
    try:
        marker = RunDir(out).read_json(MARKER) or {}
    except ArchbuilderError:
        return [], None  # RunDir.check says what is wrong with the folder
    items = marker.get("overrides") or []
    try:
        pairs = [(item["path"], DELETE if item.get("delete") else item["value"]) for item in items]
    except (TypeError, KeyError):
        raise ArchbuilderError(f"{RunDir(out).file(MARKER)}: cannot resume: unreadable overrides; "
                               "start again with --overwrite") from None
    return pairs, marker.get("data")


def replay(spec, data, out):
    """The spec and data of a resumed run: the recorded overrides not given again, and the recorded data.

    Args:
        spec: the `Spec` as this command loaded it (its own overrides applied).
        data: this command's `--data` (None: not given).
        out: the run directory.

    Returns:
        `(spec, data)`.
    """
    pairs, recorded_data = recorded(out)
    given = {tuple(keys) for keys, _ in spec.overrides}
    missing = [(path, value) for path, value in pairs if tuple(as_pairs([(path, value)])[0][0]) not in given]
    if missing:
        spec = load_spec(spec, missing)
    return spec, data if data is not None else recorded_data
