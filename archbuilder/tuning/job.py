"""The job a search's workers share: `RUN/tuner/job.json` (the spec, its data, where to run).

The chief (or a worker host's supervisor) writes it before any worker starts; each
worker process (`python -m archbuilder.tuning.workers RUN_DIR`) reads it, so every
worker searches the same spec on the same data.
"""

import os

from archbuilder.atomic import atomic_write_json
from archbuilder.errors import ArchbuilderError
from archbuilder.run.rundir import RunDir
from archbuilder.tuning.tuners import PROJECT

__all__ = ["JOB", "write_job", "read_job", "finished_count"]

JOB = "job.json"


def write_job(run_dir, spec, data, quiet):
    """Records the search of `spec` on `data` for the workers of `run_dir`."""
    job = {"spec": spec.doc, "source": spec.source, "base_dir": spec.base_dir, "data": data,
           "cwd": os.getcwd(), "quiet": quiet}
    atomic_write_json(os.path.join(run_dir, PROJECT, JOB), job)


def read_job(run_dir):
    """The job of `run_dir` as written by `write_job`.

    Raises:
        ArchbuilderError: the job file is missing or unreadable.
    """
    job = RunDir(os.path.join(run_dir, PROJECT)).read_json(JOB)
    if job is None:
        raise ArchbuilderError(f"{os.path.join(run_dir, PROJECT, JOB)}: no such file: the chief writes it before "
                               "any worker starts")
    return job


def finished_count(oracle):
    """How many trials of `oracle` ended (completed, failed or invalid)."""
    return sum(1 for t in oracle.trials.values() if t.status in ("COMPLETED", "FAILED", "INVALID"))
