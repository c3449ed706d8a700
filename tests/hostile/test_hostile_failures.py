"""Finding 9, the machine's share: a full disk and an exhausted memory are located lines with what to do.

Neither can be caused on demand on every machine, so each is raised where the machine would
raise it — the disk by `os.fsync` (and `model.save`), the memory by the backend inside `fit`
— with the exception types and errno the system and the backends use.
"""

import errno
import os
import re

import keras
import pytest

import archbuilder
from archbuilder import atomic
from archbuilder.errors import SpecErrors
from archbuilder.spec.plan import plan_spec
from hostile_corpus import invoke
from hostile_corpus import one_line
from hostile_corpus import write_spec


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_9_a_full_disk_names_the_file_and_the_space_it_needed(tmp_path, monkeypatch):
    spec = write_spec(str(tmp_path))
    out = tmp_path / "run"
    monkeypatch.setattr(atomic.os, "fsync", _no_space)
    line = one_line(invoke("train", spec, "--out", out, "--quiet"))
    marker = out / "run.json"
    assert re.fullmatch(rf"{re.escape(str(marker))}: no space left on the device: writing it needs [0-9,]+ bytes; "
                        rf"[0-9,]+ bytes free in {re.escape(str(out))}; free some space and run again", line), line
    assert not [name for name in os.listdir(out) if name.startswith(".run.json.")]  # no temporary left behind


def test_9_a_full_disk_while_saving_a_checkpoint(tmp_path, monkeypatch):
    spec = write_spec(str(tmp_path))
    out = tmp_path / "run"
    monkeypatch.setattr(keras.Model, "save", _no_space)
    line = one_line(invoke("train", spec, "--out", out, "--quiet"))
    assert line.startswith(f"{out / 'checkpoint.keras'}: no space left on the device: writing it needs about ")
    assert "(the model's weights)" in line, line


class _OutOfMemory(keras.callbacks.Callback):
    """Raises what the backend raises when a training step does not fit in memory."""

    def on_train_batch_begin(self, batch, logs=None):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(None, None, "Graph execution error: OOM when allocating tensor")
        raise MemoryError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate")


def test_9_out_of_memory_while_training_says_the_batch_size_to_try(tmp_path):
    spec = write_spec(str(tmp_path))
    with pytest.raises(SpecErrors) as info:
        archbuilder.train(spec, out=str(tmp_path / "run"), quiet=True, callbacks=[_OutOfMemory()])
    nodes = plan_spec(archbuilder.load_spec(spec).concrete()).nodes
    per_sample = 4 * sum(n.shape[-1] for n in nodes)
    assert info.value.lines() == [
        f"{spec}: $.training.batch_size: out of memory while training with batch size 32: the model's activations "
        f"take about {per_sample * 32} bytes per batch ({per_sample} bytes per sample, float32, forward pass) beside "
        "its 51 parameters; try --batch-size 16"]
