"""`RUN/logs/` on every backend, read back by TensorBoard's own readers (`tests/tracking_check.py`).

JAX and PyTorch run in subprocesses with TensorFlow hidden as if not installed, and
must load no TensorFlow module; TensorFlow runs in this process.
"""

import json
import os
import subprocess
import sys

import pytest

import tracking_check
from archbuilder.run import tracking

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_logs(seen):
    # The train run: one step per epoch, the values history.csv holds, train and validation apart.
    history = seen["history"]
    assert len(history) == 2
    for split, prefix in (("train", ""), ("validation", "val_")):
        for metric in ("loss", "accuracy"):
            steps = seen[split][f"epoch_{metric}"]
            assert [step for step, _ in steps] == [0, 1]
            assert [value for _, value in steps] == pytest.approx([float(r[prefix + metric]) for r in history],
                                                                  rel=1e-6)
    assert [v for _, v in seen["train"]["epoch_learning_rate"]] == pytest.approx([1e-3, 1e-3])
    # Every trial: its own curves, and one HParams session whose values and score are trials.csv's.
    trials = seen["trials"]
    assert [t["status"] for t in trials] == ["COMPLETED", "COMPLETED"]
    names = ["dense[0].activation", "dense[0].units", "training.optimizer.learning_rate"]
    board = seen["dashboard"]
    assert board["hparams"] == names
    assert board["metrics"] == ["/best_val_accuracy", "train/epoch_loss", "validation/epoch_accuracy",
                                "validation/epoch_loss"]
    assert sorted(board["sessions"]) == [f"trial_{t['trial_id']}" for t in trials]
    for trial in trials:
        curves = seen["trial_scalars"][trial["trial_id"]]
        assert [s for s, _ in curves["validation"]["epoch_accuracy"]] == [0, 1]
        session = board["sessions"][f"trial_{trial['trial_id']}"]
        assert session["status"] == ["STATUS_SUCCESS"]
        assert session["hparams"]["dense[0].activation"] == trial["dense[0].activation"]
        assert session["hparams"]["dense[0].units"] == float(trial["dense[0].units"])
        assert session["hparams"]["training.optimizer.learning_rate"] == pytest.approx(
            float(trial["training.optimizer.learning_rate"]))
        assert session["metrics"]["/best_val_accuracy"] == pytest.approx(float(trial["score"]), rel=1e-6)
        best = max(v for _, v in curves["validation"]["epoch_accuracy"])
        assert float(trial["score"]) == pytest.approx(best, rel=1e-6)
        assert session["metrics"]["validation/epoch_loss"] == curves["validation"]["epoch_loss"][-1][1]


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_logs_on_jax_and_torch_are_written_and_read_without_tensorflow(tmp_path, backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, os.path.join(TESTS, "tracking_check.py"), str(tmp_path), "--no-tensorflow"],
                            env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["backend"] == backend
    assert seen["tensorflow"] == []  # no TensorFlow module was loaded, by archbuilder or TensorBoard's readers
    assert_logs(seen)


def test_logs_on_tensorflow_in_process(tmp_path):
    import keras

    assert keras.backend.backend() == "tensorflow"
    seen = tracking_check.check(str(tmp_path))
    assert_logs(seen)


def test_own_reader_tolerates_a_record_cut_short_and_keeps_a_repeated_step_last(tmp_path):
    writer = tracking.EventWriter(str(tmp_path))
    writer.add_scalars({"epoch_loss": 2.0}, 0)
    writer.add_scalars({"epoch_loss": 1.5}, 1)
    writer.close()
    again = tracking.EventWriter(str(tmp_path))  # a resumed run repeats epoch 1
    again.add_scalars({"epoch_loss": 1.25}, 1)
    again.add_scalars({"epoch_loss": 1.0}, 3)
    again.close()
    with open(again.path, "r+b") as f:  # the last record (step 3) loses its tail, as when a writer is killed
        f.truncate(os.path.getsize(again.path) - 3)
    assert tracking.read_scalars(str(tmp_path)) == {"epoch_loss": [2.0, 1.25]}
