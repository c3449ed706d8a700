"""A train run and a two-trial search, then their `logs/` read back with TensorBoard's own readers.

Run as `python tests/tracking_check.py OUT` (with KERAS_BACKEND set) it prints one
JSON line: what TensorBoard's event accumulator and HParams plugin see, next to
what the run directories say (history.csv, trials.csv), and the TensorFlow modules
loaded. `--no-tensorflow` hides TensorFlow as if it were not installed (Keras's own
`model.save` imports it whenever it is). The TensorFlow test calls `check(out)` in-process.
"""

import csv
import json
import os
import sys
import types

DATA = {"dataset": "mnist1d", "max_samples": 200}


def train_spec():
    return {"spec_version": 1, "name": "tb_train", "family": "mlp", "input": {"shape": [40]},
            "dense": [{"units": 8}], "output": {"units": 10},
            "training": {"epochs": 2, "batch_size": 64}, "data": DATA}


def tune_spec():
    return {"spec_version": 1, "name": "tb_tune", "family": "mlp", "input": {"shape": [40]},
            "dense": [{"units": {"choice": [4, 8]}, "activation": {"choice": ["relu", "tanh"]}}],
            "output": {"units": 10},
            "training": {"epochs": 2, "batch_size": 64,
                         "optimizer": {"type": "adam", "learning_rate": {"float": {"min": 1e-3, "max": 1e-2}}}},
            "tuning": {"max_trials": 2, "seed": 1}, "data": DATA}


def _readers():
    if sys.modules.get("tensorflow") is None:  # TensorBoard's own switch to its TensorFlow-free stub
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
    from tensorboard.backend.event_processing import event_accumulator

    return event_accumulator


def scalars(run_dir):
    """`{tag: [[step, value], ...]}` of one TensorBoard run, as the event accumulator reads it."""
    from tensorboard.util import tensor_util

    ea = _readers()
    acc = ea.EventAccumulator(run_dir, size_guidance={ea.TENSORS: 0, ea.SCALARS: 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars":
            out[tag] = [[e.step, float(tensor_util.make_ndarray(e.tensor_proto))] for e in acc.Tensors(tag)]
    return out


def dashboard(logdir):
    """What the HParams dashboard shows: the experiment and its session groups (the plugin's own backend)."""
    _readers()
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import backend_context
    from tensorboard.plugins.hparams import get_experiment
    from tensorboard.plugins.hparams import list_session_groups

    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    tb = base_plugin.TBContext(logdir=logdir, multiplexer=mux,
                               data_provider=data_provider.MultiplexerDataProvider(mux, logdir))
    backend = backend_context.Context(tb)
    request = context.RequestContext()
    experiment = get_experiment.Handler(request, backend, "", api_pb2.GetExperimentRequest()).run()
    statuses = [api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING]
    groups = list_session_groups.Handler(request, backend, "", api_pb2.ListSessionGroupsRequest(
        start_index=0, slice_size=100, allowed_statuses=statuses)).run()
    sessions = {}
    for group in groups.session_groups:
        sessions[group.name] = {
            "hparams": {k: getattr(v, v.WhichOneof("kind")) for k, v in group.hparams.items()},
            "metrics": {f"{m.name.group}/{m.name.tag}": m.value for m in group.metric_values},
            "status": [api_pb2.Status.Name(s.status) for s in group.sessions]}
    return {"hparams": sorted(h.name for h in experiment.hparam_infos),
            "metrics": sorted(f"{m.name.group}/{m.name.tag}" for m in experiment.metric_infos),
            "sessions": sessions, "runs": sorted(mux.Runs())}


def _csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def check(out):
    """Trains and tunes into `out`, then reads both back; a JSON-able dict."""
    import archbuilder

    train_dir = os.path.join(out, "train")
    archbuilder.train(train_spec(), out=train_dir, quiet=True)
    tune_dir = os.path.join(out, "tune")
    archbuilder.tune(tune_spec(), out=tune_dir, quiet=True)
    logs = os.path.join(tune_dir, "logs")
    trials = _csv(os.path.join(tune_dir, "trials.csv"))
    import keras

    return {
        "backend": keras.backend.backend(),
        "history": _csv(os.path.join(train_dir, "history.csv")),
        "train": scalars(os.path.join(train_dir, "logs", "train")),
        "validation": scalars(os.path.join(train_dir, "logs", "validation")),
        "trials": trials,
        "trial_scalars": {t["trial_id"]: {split: scalars(os.path.join(logs, f"trial_{t['trial_id']}", split))
                                          for split in ("train", "validation")} for t in trials},
        "dashboard": dashboard(logs),
        "tensorflow": sorted(m for m, module in sys.modules.items() if module is not None
                             and (m == "tensorflow" or m.startswith("tensorflow."))),
    }


if __name__ == "__main__":
    if "--no-tensorflow" in sys.argv:
        sys.modules["tensorflow"] = None  # as if not installed (a JAX or PyTorch host): its import raises ImportError
    print(json.dumps(check(sys.argv[1])))
