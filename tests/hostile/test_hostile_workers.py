"""Finding 16: distributed workers are fresh interpreters, never forked from a chief that runs gRPC threads.

The chief here is this test process itself (`archbuilder.tune(..., workers=2)`), so its gRPC
server's threads are running whenever it starts a worker: a fork then made gRPC print
"Other threads are currently calling into gRPC, skipping fork() handlers", and a worker
once aborted (`epoll_wait error: Bad file descriptor`) and had to be restarted.
"""

import glob
import os

import archbuilder
from hostile_corpus import spec_doc
from hostile_corpus import write_spec

SEARCHES = 5
FORK_WARNING = "skipping fork() handlers"


def test_16_five_two_worker_searches_need_no_restart_and_fork_nothing(tmp_path, capfd, monkeypatch):
    # How a worker starts does not depend on its backend; JAX's import is the quickest (the chief,
    # this process, keeps the suite's backend: it serves the oracle and reloads the best model).
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    doc = spec_doc()
    doc["dense"] = [{"units": {"choice": [4, 8]}}]
    doc["tuning"] = {"max_trials": 2}
    spec = write_spec(str(tmp_path), doc=doc)
    for i in range(SEARCHES):
        out = tmp_path / f"search{i}"
        result = archbuilder.tune(spec, out=str(out), workers=2, quiet=True)
        assert list(result.trials["status"]) == ["COMPLETED", "COMPLETED"], result.trials
        assert set(result.trials["worker"]) <= {"tuner0", "tuner1"} and (out / "DONE").exists()
        logs = "".join(open(p, encoding="utf-8", errors="replace").read()
                       for p in glob.glob(str(out / "tuner" / "logs" / "*.log")))
        assert FORK_WARNING not in logs and "epoll_wait" not in logs, logs[-2000:]
        assert not glob.glob(str(out / "tuner" / "*.lock")) and not os.path.exists(out / "run.lock")
    captured = capfd.readouterr()
    assert FORK_WARNING not in captured.err and FORK_WARNING not in captured.out, captured.err[-2000:]
    assert "restarting it" not in captured.err, captured.err[-2000:]
