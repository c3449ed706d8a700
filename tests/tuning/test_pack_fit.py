"""A pack trains each member exactly as its own sequential `fit` would (JAX, CPU, in a subprocess).

Each case builds the same members twice with archbuilder's own pieces (seed, build,
compile; `fit_arguments`): once fit one after another, once packed. Step by step
(`scan=False`, the CPU default) every final variable — weights, dropout seed states,
optimizer slots and step count — and every history value is bit-identical (NaN equals
NaN), early stopping and NaN stops included, and each member ends after as many
epochs as its twin. Inside `lax.scan` (`scan=True`, the accelerators' default) a
Dense-only model is equal to float rounding. Compilations are counted, never timed.
"""

import json

import pytest

from jax_scripts import run_jax

PACK_SCRIPT = r"""
import keras
from archbuilder.run.device import seed_everything
from archbuilder.run.fit import build_for_training, fit_arguments
from archbuilder.run.prepare import adapt_loss, prepare_data
from archbuilder.spec.load import load_spec
from archbuilder.tuning.hypermodel import _stop_on_nan
from archbuilder.tuning.pack_fit import Member, pack_fit

def state(model):
    return [np.asarray(v.value) for v in model.variables + model.optimizer.variables]


def nan_equal(a, b):
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.inexact)))


def largest(a, b):
    finite = np.isfinite(a) & np.isfinite(b) if np.issubdtype(a.dtype, np.inexact) else np.ones(a.shape, bool)
    return float(np.max(np.abs(a.astype(float) - b.astype(float))[finite], initial=0.0))


def count(names, what):
    return sum(name == f"jit({what})" for name in names)


def run_case(case):
    os.environ.update(case.get("env", {}))  # ARCHBUILDER_FAST_PATH is read at each fit
    specs = [load_spec(doc) for doc in case["members"]]
    dataset = prepare_data(specs[0])

    def build(spec):
        keras.backend.clear_session(free_memory=False)
        concrete = adapt_loss(spec.concrete(), dataset)
        seed_everything(concrete["training"]["seed"])
        return build_for_training(concrete, dataset).model, concrete

    def arguments(concrete):
        return fit_arguments(concrete, dataset, callbacks=[_stop_on_nan()], verbose=0)

    sequential = []
    del compiled[:]
    for spec in specs:
        model, concrete = build(spec)
        history = model.fit(**arguments(concrete))
        sequential.append((state(model), history.history))
    sequential_compiled = list(compiled)
    members = []
    for spec in specs:
        model, concrete = build(spec)
        members.append(Member(model, arguments(concrete)))
    ended = []
    del compiled[:]
    histories = pack_fit(members, scan=case["scan"], on_member_end=lambda i, h, e: ended.append([i, repr(e)]))
    pack_compiled = list(compiled)
    for name in case.get("env", {}):
        del os.environ[name]
    rows = []
    for (twin, twin_history), member, history in zip(sequential, members, histories):
        packed = state(member.model)
        rows.append({
            "epochs": [len(twin_history["loss"]), len(history.history["loss"])],
            "variables_identical": all(nan_equal(a, b) for a, b in zip(twin, packed)),
            "variables_max_difference": max(largest(a, b) for a, b in zip(twin, packed)),
            "history_identical": sorted(twin_history) == sorted(history.history) and all(
                nan_equal(np.asarray(twin_history[k]), np.asarray(history.history[k])) for k in twin_history),
            "history_max_difference": max(largest(np.asarray(twin_history[k]), np.asarray(history.history[k]))
                                          for k in twin_history),
            "final_loss": twin_history["loss"][-1],
        })
    return {"rows": rows, "ended": ended,
            "sequential": {"train_step": count(sequential_compiled, "train_step"),
                           "test_step": count(sequential_compiled, "test_step")},
            "pack": {name: count(pack_compiled, name)
                     for name in ("_train_all", "_test_all", "_gather", "_train_epoch", "_train_one", "_test_one")}}


print("RESULT " + json.dumps({name: run_case(case) for name, case in json.loads(sys.argv[1]).items()}))
"""

DATA = {"dataset": "mnist1d", "max_samples": 600}  # 480 to train (7 batches of 64 and one of 32), 120 to validate
NAN_RATE = 1e25  # the weights overflow in the first epoch: a NaN loss, the member stops


def _cnn(rate, seed, l2, dropout, **training):
    return {"spec_version": 1, "name": "member", "family": "cnn", "input": {"shape": [40, 1]},
            "conv": [{"filters": 6, "kernel_size": 5, "strides": 2},
                     {"filters": 6, "kernel_size": 5, "strides": 2, "dropout": dropout}],
            "dense": [{"units": 16, "dropout": dropout}], "output": {"units": 10},
            "regularization": {"l2": l2}, "data": DATA,
            "training": {"epochs": 4, "batch_size": 64, "validation_split": 0.2, "seed": seed,
                         "optimizer": {"type": "adam", "learning_rate": rate}, **training}}


STOP_EARLY = {"monitor": "val_loss", "patience": 0, "min_delta": 0.3, "restore_best_weights": True}

CNN_MEMBERS = [
    _cnn(1e-3, 1, 1e-4, 0.1),
    _cnn(2e-2, 2, 1e-3, 0.25, early_stopping=STOP_EARLY),
    _cnn(5e-3, 3, 3e-4, 0.05, lr_schedule={"type": "exponential_decay", "decay_steps": 8, "decay_rate": 0.7}),
    _cnn(NAN_RATE, 4, 1e-2, 0.5),
]


def _autoencoder(l1, loss_weight, seed):
    return {"spec_version": 1, "name": "member", "family": "autoencoder", "input": {"shape": [40]},
            "encoder": [{"units": 16}], "bottleneck": {"units": 4}, "variant": "sparse", "sparsity": {"l1": l1},
            "head": {"units": 10, "loss_weight": loss_weight}, "data": DATA,
            "training": {"epochs": 3, "batch_size": 64, "seed": seed,
                         "optimizer": {"type": "sgd", "learning_rate": 0.05, "momentum": 0.9}}}


def _mlp(rate, seed):
    return {"spec_version": 1, "name": "member", "family": "mlp", "input": {"shape": [40]},
            "dense": [{"units": 16}, {"units": 16}], "output": {"units": 10}, "data": DATA,
            "training": {"epochs": 3, "batch_size": 64, "seed": seed,
                         "optimizer": {"type": "adam", "learning_rate": rate}}}


# A search over learning rate, seed and L2 factor: one training step for all, traced and compiled once.
SHARED_MEMBERS = [
    _cnn(1e-3, 1, 1e-4, 0.1),
    _cnn(2e-2, 2, 1e-3, 0.1, early_stopping=STOP_EARLY),
    _cnn(5e-3, 3, 3e-4, 0.1),
    _cnn(NAN_RATE, 4, 1e-2, 0.1),
]

CASES = {
    "cnn": {"members": CNN_MEMBERS, "scan": False},
    "shared": {"members": SHARED_MEMBERS, "scan": False},
    "autoencoder": {"members": [_autoencoder(1e-3, 1.0, 5), _autoencoder(1e-2, 0.3, 6), _autoencoder(0.0, 2.0, 7)],
                    "scan": False},
    # Full batches of 64 only, and 8 steps per execution in the sequential fit.
    "fast_path": {"members": [_mlp(3e-3, 8), _mlp(1e-2, 9)], "scan": False, "env": {"ARCHBUILDER_FAST_PATH": "on"}},
    "scan": {"members": [_mlp(3e-3, 8), _mlp(1e-2, 9)], "scan": True},
}


@pytest.fixture(scope="module")
def packs():
    return run_jax(PACK_SCRIPT, json.dumps(CASES))


def test_each_member_of_a_pack_ends_bit_for_bit_as_its_sequential_fit(packs):
    rows = packs["cnn"]["rows"]
    assert len(rows) == 4
    for row in rows:
        assert row["variables_identical"], row  # weights, seed states, optimizer slots, iterations
        assert row["history_identical"], row
        assert row["epochs"][0] == row["epochs"][1], row


def test_early_stopping_and_a_nan_loss_stop_only_their_member(packs):
    rows = packs["cnn"]["rows"]
    epochs = [row["epochs"][1] for row in rows]
    assert epochs[0] == epochs[2] == 4
    assert 1 < epochs[1] < 4  # early stopping (restoring its best weights), bit-identical above
    assert epochs[3] == 1 and rows[3]["final_loss"] != rows[3]["final_loss"]  # NaN
    ended = [index for index, _ in packs["cnn"]["ended"]]
    assert ended[0] == 3 and ended.index(1) < ended.index(0)  # each member is done as soon as it stops
    assert all(error == "None" for _, error in packs["cnn"]["ended"])


def test_a_pack_compiles_one_step_program_per_batch_shape_for_all_its_members(packs):
    # Sequentially each member compiles its training step twice (64 and the last batch of 32) and its
    # evaluation step once; the pack compiles one program that steps all four, per batch shape.
    # (Its members differ in dropout rates and schedules: values baked into each member's step.)
    assert packs["cnn"]["sequential"] == {"train_step": 8, "test_step": 4}
    assert packs["cnn"]["pack"] == {"_train_all": 2, "_test_all": 1, "_gather": 0, "_train_epoch": 0,
                                    "_train_one": 0, "_test_one": 0}


def test_members_differing_in_learning_rate_seed_and_l2_share_one_step_bit_for_bit(packs):
    out = packs["shared"]
    epochs = [row["epochs"][1] for row in out["rows"]]
    assert epochs[0] == epochs[2] == 4 and 1 < epochs[1] < 4 and epochs[3] == 1  # early stopping, NaN
    for row in out["rows"]:
        assert row["variables_identical"] and row["history_identical"], row
        assert row["epochs"][0] == row["epochs"][1], row
    # One member's step for all four, per batch shape (64 and the last 32), and one evaluation step.
    assert out["sequential"] == {"train_step": 8, "test_step": 4}
    assert out["pack"] == {"_train_all": 0, "_test_all": 0, "_gather": 0, "_train_epoch": 0,
                           "_train_one": 2, "_test_one": 1}


def test_autoencoders_with_a_head_pack_exactly_with_their_own_penalty_and_loss_weights(packs):
    for row in packs["autoencoder"]["rows"]:
        assert row["variables_identical"] and row["history_identical"] and row["epochs"] == [3, 3], row


def test_on_the_fast_path_a_pack_replays_each_members_full_batches_exactly(packs):
    for row in packs["fast_path"]["rows"]:
        assert row["variables_identical"] and row["history_identical"], row
    assert packs["fast_path"]["pack"]["_train_one"] == 1  # one batch shape, one step shared by the members


def test_with_lax_scan_an_epoch_is_one_program_and_a_dense_model_equal_to_float_rounding(packs):
    out = packs["scan"]
    assert out["pack"]["_train_epoch"] == 1 and out["pack"]["_train_all"] == 0
    for row in out["rows"]:
        assert row["epochs"] == [3, 3]
        assert row["variables_max_difference"] < 1e-5 and row["history_max_difference"] < 1e-5, row


def test_only_state_and_l1_l2_factors_let_members_share_a_step():
    """Members share one step when their training steps differ only in what the state or an L1/L2 factor holds."""
    keras = pytest.importorskip("keras")
    from archbuilder.tuning.pack_programs import train_key

    def model(optimizer, l2=1e-3, rate=0.0, units=3, seed=1):
        inputs = keras.Input((4,))
        h = keras.layers.Dropout(rate, seed=seed)(inputs)
        h = keras.layers.Dense(units, kernel_regularizer=keras.regularizers.L1L2(0.0, l2),
                               kernel_initializer=keras.initializers.GlorotUniform(seed))(h)
        built = keras.Model(inputs, h)
        built.compile(optimizer, "mse")
        return train_key(built)

    base = model(keras.optimizers.Adam(1e-3))
    assert model(keras.optimizers.Adam(5e-3), l2=1e-4, seed=7) == base  # learning rate, L2 factor, seeds
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.9)
    for other in (model(keras.optimizers.Adamax(1e-3)), model(keras.optimizers.Adam(1e-3, beta_1=0.8)),
                  model(keras.optimizers.Adam(1e-3), rate=0.2), model(keras.optimizers.Adam(1e-3), units=4),
                  model(keras.optimizers.Adam(schedule)), model(keras.optimizers.Adam(1e-3), l2=0.0)):
        assert other != base
