"""Tests of archbuilder.data and archbuilder.datasets: every source, every rule, every error."""

import gzip
import json
import os
import struct

import numpy as np
import pytest

from archbuilder.data import datasets
from archbuilder.data.preprocessing import conform_inputs
from archbuilder.data.preprocessing import input_contract
from archbuilder.data.load import load_data
from archbuilder.data.load import load_inputs
from archbuilder.data.parse import parse_data
from archbuilder.errors import DataError


def error_of(*args, **kwargs):
    with pytest.raises(DataError) as info:
        load_data(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def save_npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def blobs(n=20, features=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype(np.float32), np.arange(n) % 3


# ---------------------------------------------------------------- parsing `data`


def test_parse_json_string_path_and_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec, where = parse_data('{"dataset": "mnist1d", "normalize": true}')
    assert spec == {"dataset": "mnist1d", "normalize": True} and where == "--data"
    save_npz(tmp_path / "d.npz", x=np.zeros((5, 2)), y=np.zeros(5))
    assert parse_data("d.npz")[0] == {"path": "d.npz"}
    assert parse_data("mnist1d")[0] == {"dataset": "mnist1d"}
    # Relative paths in a spec's dict are relative to the spec's folder.
    spec, where = parse_data({"path": "d.npz"}, base_dir="specs")
    assert spec["path"] == os.path.join("specs", "d.npz") and where == "$.data"
    spec, _ = parse_data({"x": "x.npy", "y": "../y.npy"}, base_dir="specs")
    assert spec == {"x": os.path.join("specs", "x.npy"), "y": "y.npy"}


@pytest.mark.parametrize(
    "data, expected",
    [
        ('{"dataset": mnist1d}', "--data: invalid JSON at line 1, column 13"),
        ("mnist1e", "mnist1e: unknown dataset 'mnist1e' (did you mean 'mnist1d'?)"),
        ("data/missing.npz", "data/missing.npz: no such file or folder"),
        ({"dataset": "mnist1d", "normalise": True}, "$.data: unknown key 'normalise' (did you mean 'normalize'?)"),
        ({"normalize": True}, '$.data: needs one of "dataset", "path"'),
        ({"dataset": "mnist1d", "path": "d.npz"}, '$.data: needs only one of "dataset", "path"'),
        ({"dataset": "mnist1d", "test_split": 1.5}, '$.data: "test_split" must be a number between 0 and 1'),
        ({"dataset": "mnist1d", "max_samples": 0}, '$.data: "max_samples" must be a positive integer; got 0'),
        ({"path": "x", "image_size": [0, 4]}, '$.data: "image_size" must be [height, width] in pixels'),
        (None, '$.data: no data: set "data" in the spec or pass --data'),
        (3, "$.data: expected an object, a path or a dataset name; got int"),
    ],
)
def test_parse_errors(data, expected):
    message = error_of(data, [40])
    assert message.startswith(expected), message


def test_unknown_dataset_lists_known_ones():
    message = error_of({"dataset": "fashion"}, [28, 28, 1])
    assert message.startswith("fashion: unknown dataset 'fashion' (did you mean 'fashion_mnist'?)")
    assert "known datasets: mnist1d, fashion_mnist" in message


# ---------------------------------------------------------------- mnist1d


@pytest.fixture(scope="module")
def mnist1d():
    return load_data({"dataset": "mnist1d"}, [40], output_units=10)


def test_mnist1d(mnist1d):
    assert mnist1d.x_train.shape == (4000, 40) and mnist1d.x_test.shape == (1000, 40)
    assert mnist1d.x_train.dtype == np.float32 and mnist1d.y_train.dtype == np.int32
    assert sorted(set(mnist1d.y_train.tolist())) == list(range(10))
    assert mnist1d.x_val is None and mnist1d.class_names == [str(i) for i in range(10)]
    assert mnist1d.preprocessing["rescale"] == 1.0  # float data is left as is
    assert mnist1d.source == "mnist1d"


@pytest.mark.parametrize("shape, expected", [([40, 1], (40, 1)), ([None], (40,)), ([None, 1], (40, 1))])
def test_mnist1d_shapes(mnist1d, shape, expected):
    data = load_data("mnist1d", shape, output_units=10)  # cached: no second generation
    assert data.x_train.shape == (4000,) + expected
    np.testing.assert_array_equal(data.x_train.reshape(4000, 40), mnist1d.x_train)


def test_mnist1d_shape_and_label_errors(mnist1d):
    assert error_of("mnist1d", [28, 28, 1]).startswith(
        "mnist1d: samples of shape 40 (40 values) do not fit input.shape 28x28x1 (784 values)"
    )
    assert error_of("mnist1d", [None, 3]).startswith("mnist1d: samples of shape 40 (40 values) do not fit input.shape ?x3")
    message = error_of("mnist1d", [40], output_units=5)
    assert message.startswith("mnist1d: 10 classes (0, 1, 2, 3, 4, ...) but the output has 5 unit(s)")


# ---------------------------------------------------------------- fashion_mnist


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    folder = tmp_path / "fashion"
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = {"train": rng.integers(0, 256, (12, 28, 28)), "t10k": rng.integers(0, 256, (5, 28, 28))}
    for split, x in images.items():
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", x)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", np.arange(len(x)) % 10)
    monkeypatch.setenv("ARCHBUILDER_DATA", str(folder))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", str(tmp_path / "none"))
    return folder, images


@pytest.mark.parametrize("shape", [[28, 28, 1], [28, 28], [784]])
def test_fashion_mnist_from_archbuilder_data(fake_fashion, shape):
    folder, images = fake_fashion
    data = load_data("fashion_mnist", shape, output_units=10)
    assert data.x_train.shape == (12, *shape) and data.x_test.shape == (5, *shape)
    np.testing.assert_allclose(data.x_train.reshape(12, 28, 28), images["train"] / 255, rtol=1e-6)
    assert data.y_test.tolist() == [0, 1, 2, 3, 4]
    assert data.class_names[0] == "T-shirt/top" and len(data.class_names) == 10
    assert data.preprocessing["rescale"] == pytest.approx(1 / 255)
    assert str(folder) in data.source


def test_fashion_mnist_from_the_keras_cache(fake_fashion, tmp_path, monkeypatch):
    folder, _ = fake_fashion
    monkeypatch.delenv("ARCHBUILDER_DATA")
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    folder.rename(cache / "fashion-mnist")
    data = load_data({"dataset": "fashion-mnist"}, [28, 28, 1])
    assert data.source == f"fashion_mnist ({cache / 'fashion-mnist'})" and len(data.x_train) == 12


def test_real_fashion_mnist_files():
    assert os.path.isdir(datasets.DEBIAN_FASHION_MNIST), "apt-get install dataset-fashion-mnist (see README)"
    data = load_data("fashion_mnist", [28, 28], output_units=10)
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert 0.25 < data.x_train[:1000].mean() < 0.35  # Fashion-MNIST's mean pixel is about 0.286


def test_fashion_mnist_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHBUILDER_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", str(tmp_path / "none"))

    def offline():
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets, "_download_fashion_mnist", offline)
    message = error_of({"dataset": "fashion_mnist"}, [28, 28, 1])
    assert message.startswith("fashion_mnist: Fashion-MNIST not found in ")
    assert "network is unreachable" in message
    assert "apt-get install dataset-fashion-mnist" in message and "ARCHBUILDER_DATA" in message


def test_corrupt_idx_files(fake_fashion):
    folder, _ = fake_fashion
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(labels, "wb") as f:
        f.write(b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00\x01")
    assert error_of("fashion_mnist", [784]).startswith(
        f"{labels}: corrupt IDX file: shape (5,) needs 13 bytes, the file holds 10"
    )
    labels.write_bytes(b"not gzip at all")
    assert error_of("fashion_mnist", [784]).startswith(f"{labels}: cannot read IDX file:")
    with gzip.open(labels, "wb") as f:
        f.write(b"PK\x03\x04 something else")
    assert error_of("fashion_mnist", [784]) == f"{labels}: not an IDX file (bad magic number)"


# ---------------------------------------------------------------- .npz and .npy


def test_npz_keras_convention_with_validation_set(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (10, 4, 4), dtype=np.uint8)
    path = save_npz(
        tmp_path / "d.npz", x_train=x, y_train=np.arange(10) % 2, x_test=x[:3], y_test=[0, 1, 0],
        x_val=x[:2], y_val=[1, 1],
    )  # fmt: skip
    data = load_data({"path": path}, [4, 4, 1], output_units=2)
    assert data.x_train.shape == (10, 4, 4, 1) and data.x_val.shape == (2, 4, 4, 1)
    np.testing.assert_array_equal(data.x_train[..., 0], x.astype(np.float32) * np.float32(1 / 255))
    assert data.y_val.tolist() == [1, 1] and data.y_test.tolist() == [0, 1, 0]
    assert data.source == path and data.preprocessing["source"] == path


def test_npz_x_y_convention_splits_with_fixed_seed(tmp_path):
    x, y = blobs(20)
    path = save_npz(tmp_path / "d.npz", x=x, y=y)
    first = load_data(path, [4], output_units=3)
    again = load_data(path, [4], output_units=3)
    assert len(first.x_train) == 16 and len(first.x_test) == 4
    np.testing.assert_array_equal(first.x_test, again.x_test)
    # Every sample lands in exactly one split, with its own label.
    rows = {tuple(r): label for r, label in zip(x, y)}
    for xs, ys in ((first.x_train, first.y_train), (first.x_test, first.y_test)):
        assert all(rows[tuple(r)] == label for r, label in zip(xs, ys))
    assert sorted(map(tuple, np.concatenate([first.x_train, first.x_test]))) == sorted(rows)
    other = load_data({"path": path, "seed": 7, "test_split": 0.5}, [4], output_units=3)
    assert len(other.x_test) == 10
    # The global RNG is neither used nor disturbed.
    np.random.seed(3)
    state = np.random.get_state()[1].copy()
    load_data(path, [4], output_units=3)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_max_samples_caps_each_split(tmp_path):
    x, y = blobs(50)
    path = save_npz(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:20], y_test=y[:20])
    data = load_data({"path": path, "max_samples": 7}, [4], output_units=3)
    assert len(data.x_train) == 7 and len(data.x_test) == 7
    rows = {tuple(r): label for r, label in zip(x, y)}
    assert all(rows[tuple(r)] == label for r, label in zip(data.x_train, data.y_train))


def test_keys_that_do_not_fit_the_source():
    assert error_of({"dataset": "mnist1d", "target": "y"}, [40]) == 'mnist1d: "target" applies to CSV files only'
    assert error_of({"dataset": "mnist1d", "seed": "one"}, [40]) == '$.data: "seed" must be a non-negative integer; got "one"'
    assert error_of('{"dataset": 3}', [40]) == '--data: "dataset" must be a non-empty string; got 3'


def test_data_strings_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_images(tmp_path / "pics", size=(5, 6))
    assert load_data("pics", [6, 5, 3]).class_names == ["cat", "dog"]  # an existing folder
    x, y = blobs(10)
    (tmp_path / "specs").mkdir()
    save_npz(tmp_path / "specs" / "d.npz", x=x, y=y)
    # JSON from --data: its paths are relative to base_dir when the caller gives one.
    assert load_data('{"path": "d.npz"}', [4], base_dir="specs").source == os.path.join("specs", "d.npz")
    assert error_of(' {"path": "d.npz"}', [4]) == "d.npz: no such file or folder"


def test_npz_named_keys_and_npy_pair(tmp_path):
    x, y = blobs(10)
    path = save_npz(tmp_path / "d.npz", features=x, labels=y)
    data = load_data({"path": path, "x": "features", "y": "labels"}, [2, 2], output_units=3)
    assert data.x_train.shape == (8, 2, 2)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    data = load_data({"x": "x.npy", "y": "y.npy"}, [4], base_dir=str(tmp_path), output_units=3)
    assert data.x_train.shape == (8, 4) and data.source == os.path.join(str(tmp_path), "x.npy")


def test_npz_errors(tmp_path):
    x, y = blobs(10)
    path = save_npz(tmp_path / "d.npz", inputs=x, targets=y)
    assert error_of(path, [4]) == (
        f"{path}: no input array: expected keys x_train, y_train, x_test, y_test or x, y "
        '(or name them with "x" and "y"); found keys: inputs, targets'
    )
    assert error_of({"path": path, "x": "input", "y": "targets"}, [4]) == (
        f"{path}: no array 'input' (for \"x\") (did you mean 'inputs'?); found keys: inputs, targets"
    )
    only_x = save_npz(tmp_path / "x_only.npz", x=x)
    assert error_of(only_x, [4]).startswith(f"{only_x}: no labels: expected a 'y_train' or 'y' array")
    half = save_npz(tmp_path / "half.npz", x_train=x, y_train=y, x_test=x)
    assert error_of(half, [4]).startswith(f"{half}: has 'x_test' but no 'y_test'")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04garbage")
    assert error_of(str(corrupt), [4]).startswith(f"{corrupt}: cannot read:")
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "y.npy", y)
    message = error_of({"x": str(pickled), "y": str(tmp_path / "y.npy")}, [4])
    assert message.startswith(f"{pickled}: holds pickled Python objects, which archbuilder does not load")
    assert error_of({"path": str(tmp_path / "y.npy")}, [4]).startswith(f"{tmp_path / 'y.npy'}: no labels: name the label file")
    assert error_of({"x": "nope.npy", "y": "y.npy"}, [4]) == "nope.npy: no such file or folder"
    other = tmp_path / "d.h5"
    other.write_bytes(b"")
    assert error_of(str(other), [4]).startswith(f"{other}: unsupported file type '.h5'")


def test_value_errors(tmp_path):
    x, y = blobs(10)
    x[3, 2] = np.nan
    x[5, 0] = np.inf
    path = save_npz(tmp_path / "nan.npz", x=x, y=y)
    assert error_of(path, [4]) == f"{path}: x_train holds 2 NaN or infinite value(s); the first in sample 3 at index [3, 2]"
    x, y = blobs(10)
    path = save_npz(tmp_path / "short.npz", x=x, y=y[:9])
    assert error_of(path, [4]) == f"{path}: x_train has 10 samples but y_train has 9 labels"
    path = save_npz(tmp_path / "shape.npz", x=x, y=y)
    assert error_of(path, [5]).startswith(f"{path}: samples of shape 4 (4 values) do not fit input.shape 5 (5 values)")
    path = save_npz(tmp_path / "text.npz", x=np.array([["a"]] * 10), y=y)
    assert error_of(path, [1]) == f"{path}: x_train holds <U1 values; expected numbers"


def test_label_errors(tmp_path, monkeypatch):
    x, _ = blobs(10)
    y = np.arange(10)
    y[4] = 12
    path = save_npz(tmp_path / "range.npz", x=x, y=y)
    assert error_of(path, [4], output_units=10) == (
        f"{path}: a label of y_train (sample 4) is out of range for 10 output unit(s); labels must be 0..9 "
        "(ARCHBUILDER_DEBUG=1 shows the values)"
    )
    path = save_npz(tmp_path / "binary.npz", x=x, y=np.arange(10) % 3)
    message = error_of(path, [4], output_units=1)
    assert message.startswith(f"{path}: a label of y_train (sample ") and "labels must be 0 or 1 (one sigmoid unit)" in message
    path = save_npz(tmp_path / "negative.npz", x=x, y=np.arange(10) - 1)
    assert "a label of y_train (sample 0) is out of range" in error_of(path, [4], output_units=10)
    path = save_npz(tmp_path / "float.npz", x=x, y=np.linspace(0, 1, 10))
    message = error_of(path, [4], output_units=3)
    assert message.startswith(f"{path}: class labels must be integers; y_train holds a fractional value (sample ")
    monkeypatch.setenv("ARCHBUILDER_DEBUG", "1")  # the values, on request
    assert "(sample 0, label -1)" in error_of(save_npz(tmp_path / "negative.npz", x=x, y=np.arange(10) - 1), [4],
                                               output_units=10)
    assert "for real-valued targets use a linear output (regression)" in message
    path = save_npz(tmp_path / "wide.npz", x=x, y=np.eye(5)[np.arange(10) % 5])
    assert error_of(path, [4], output_units=3) == f"{path}: y_train has 5 label columns (one-hot rows) for 3 output units"
    path = save_npz(tmp_path / "nanlabel.npz", x=x, y=np.where(np.arange(10) == 6, np.nan, 1.0))
    assert error_of(path, [4], task="regression", output_units=1).startswith(
        f"{path}: y_train holds 1 NaN or infinite value(s); the first in sample 6"
    )


def test_one_hot_labels_are_detected(tmp_path):
    x, _ = blobs(10)
    one_hot = np.eye(3)[np.arange(10) % 3]
    path = save_npz(tmp_path / "onehot.npz", x_train=x, y_train=one_hot, x_test=x[:3], y_test=one_hot[:3])
    data = load_data(path, [4], output_units=3)
    assert data.one_hot and data.preprocessing["one_hot"]
    assert data.y_train.shape == (10, 3) and data.y_train.dtype == np.float32
    mixed = save_npz(tmp_path / "mixed.npz", x_train=x, y_train=one_hot, x_test=x[:3], y_test=[0, 1, 2])
    assert "label formats differ between splits" in error_of(mixed, [4], output_units=3)
    column = save_npz(tmp_path / "column.npz", x=x, y=(np.arange(10) % 3)[:, None])
    data = load_data(column, [4], output_units=3)
    assert not data.one_hot and data.y_train.shape == (8,)


def test_too_few_samples(tmp_path):
    x, y = blobs(3)
    assert len(load_data(save_npz(tmp_path / "tiny.npz", x=x, y=y), [4]).x_train) == 2
    x, y = blobs(2)
    path = save_npz(tmp_path / "two.npz", x=x, y=y)
    assert error_of(path, [4]) == (
        f"{path}: 2 samples are too few for test_split 0.2: it leaves 0 test and 2 training samples; "
        "need at least 3 samples"
    )
    x, y = blobs(5)
    path = save_npz(tmp_path / "five.npz", x=x, y=y)
    assert error_of(path, [4], validation_split=0.8) == (
        f"{path}: 4 training samples are too few for validation_split 0.8: it leaves 0 training and 4 validation samples"
    )
    assert len(load_data(path, [4], validation_split=0.3).x_train) == 4
    one = save_npz(tmp_path / "one.npz", x_train=x[:1], y_train=y[:1], x_test=x, y_test=y)
    assert error_of(one, [4]) == f"{one}: 1 training sample is too few; need at least 2"


def test_tasks_regression_reconstruction_sequences(tmp_path):
    x, _ = blobs(10)
    path = save_npz(tmp_path / "r.npz", x=x, y=np.linspace(0, 1, 20).reshape(10, 2))
    data = load_data(path, [4], task="regression", output_units=2)
    assert data.y_train.dtype == np.float32 and data.y_train.shape == (8, 2) and data.class_names is None
    assert "2 target value(s) per sample but the output has 1 unit(s)" in error_of(path, [4], task="regression", output_units=1)
    unlabeled = save_npz(tmp_path / "x.npz", x=x)
    data = load_data(unlabeled, [4], task="reconstruction")
    assert data.y_train is None and data.y_test is None and data.x_test.shape == (2, 4)
    labeled = save_npz(tmp_path / "xy.npz", x=x, y=np.arange(10) % 2)
    assert load_data(labeled, [4], task="reconstruction", output_units=2).y_train.dtype == np.int32
    steps = save_npz(tmp_path / "steps.npz", x=np.zeros((10, 5, 2)), y=np.ones((10, 5), int))
    data = load_data(steps, [5, 2], output_units=3, sequence_labels=True)
    assert data.y_train.shape == (8, 5)
    assert "expected [N, steps] class ids (one per step)" in error_of(labeled, [4], output_units=2, sequence_labels=True)


# ---------------------------------------------------------------- scaling, normalize, dtypes


def test_scaling_rules(tmp_path):
    rng = np.random.default_rng(0)
    ints = rng.integers(0, 256, (10, 6)).astype(np.uint8)
    path = save_npz(tmp_path / "u8.npz", x=ints, y=np.arange(10) % 2)
    assert load_data(path, [6]).x_train.max() <= 1.0
    # Token ids for an embedding are never scaled.
    tokens = load_data(path, [None], input_dtype="int32")
    assert tokens.x_train.dtype == np.int32 and tokens.x_train.max() > 1 and tokens.preprocessing["rescale"] == 1.0
    # Floats are left as is; int64 columns too (not image bytes).
    wide = save_npz(tmp_path / "i64.npz", x=ints.astype(np.int64), y=np.arange(10) % 2)
    assert load_data(wide, [6]).preprocessing["rescale"] == 1.0
    assert load_data({"path": wide, "rescale": 0.5}, [6]).preprocessing["rescale"] == 0.5
    floats = save_npz(tmp_path / "f.npz", x=np.full((10, 6), 0.5, np.float32) + np.arange(10)[:, None], y=np.arange(10) % 2)
    data = load_data({"path": floats, "seed": 1}, [6])
    assert set(np.concatenate([data.x_train, data.x_test])[:, 0].tolist()) == {i + 0.5 for i in range(10)}
    message = error_of({"path": path, "normalize": True}, [6], input_dtype="int32")
    assert message.startswith(f'{path}: "normalize" and "rescale" apply to float inputs; input.dtype int32')
    assert error_of(floats, [6], input_dtype="int32") == f"{floats}: input.dtype is int32: inputs must be integer token ids"


def test_normalize_fits_on_the_training_split(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, (50, 3, 2)).astype(np.float32)
    x[:, :, 1] = 7.0  # a constant feature is centred, not divided by zero
    path = save_npz(tmp_path / "n.npz", x=x, y=np.arange(50) % 2)
    data = load_data({"path": path, "normalize": True}, [3, 2])
    norm = data.preprocessing["normalize"]
    assert norm["axis"] == -1 and len(norm["mean"]) == 2 and norm["std"][1] == 1.0
    flat = data.x_train.reshape(-1, 2)
    np.testing.assert_allclose(flat.mean(0), [0, 0], atol=1e-5)
    np.testing.assert_allclose(flat[:, 0].std(), 1.0, rtol=1e-4)
    # The test split uses the training statistics, not its own.
    assert abs(data.x_test[..., 0].mean()) > 1e-3


# ---------------------------------------------------------------- CSV


def write(path, text):
    path.write_text(text)
    return str(path)


def test_csv_text_target(tmp_path):
    rows = "\n".join(f"{i},{i * 0.5},{'cat' if i % 2 else 'bird'}" for i in range(10))
    path = write(tmp_path / "t.csv", "a,b,label\n" + rows + "\n")
    data = load_data({"path": path, "target": "label"}, [2], output_units=2)
    assert data.class_names == ["bird", "cat"] and data.x_train.shape == (8, 2)
    assert data.preprocessing["features"] == ["a", "b"] and data.preprocessing["target"] == "label"
    x_all = np.concatenate([data.x_train, data.x_test])
    labels = np.concatenate([data.y_train, data.y_test])
    assert all(label == int(a) % 2 for (a, _), label in zip(x_all, labels))
    assert load_data({"path": path, "target": "label", "features": ["b"]}, [1], output_units=2).x_train.shape == (8, 1)
    regression = load_data({"path": path, "target": "a", "features": ["b"]}, [1], task="regression", output_units=1)
    assert regression.y_train.dtype == np.float32 and regression.class_names is None


def test_csv_errors(tmp_path, monkeypatch):
    good = write(tmp_path / "t.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1,x\n")
    assert error_of({"path": good, "target": "lable"}, [2]) == (
        f"{good}: no column 'lable' (did you mean 'label'?); the header has 3 columns (ARCHBUILDER_DEBUG=1 shows "
        "the values)"
    )
    assert error_of({"path": good}, [2]) == (
        f'{good}: needs "target", the name of the label column e.g. "target": "label"; the header has 3 columns '
        "(ARCHBUILDER_DEBUG=1 shows the values)"
    )
    assert error_of({"path": good, "target": "label"}, [2], task="regression") == (
        f"{good}: target 'label' holds text; regression needs numbers"
    )
    headless = write(tmp_path / "h.csv", "1,2,0\n3,4,1\n")
    assert error_of({"path": headless, "target": "label"}, [2]) == (
        f"{headless}: no header row: the first line holds numbers only; "
        "add a first line naming the columns, e.g. x1,x2,label"
    )
    text = write(tmp_path / "text.csv", "a,color,label\n1,red,0\n2,blue,1\n")
    assert error_of({"path": text, "target": "label"}, [2]) == (
        f"{text}: feature column 2 not numeric (first at line 2); "
        'encode them as numbers, or list the numeric columns in "features"; ARCHBUILDER_DEBUG=1 shows the values'
    )
    assert error_of({"path": text, "target": "label", "features": ["a", "color"]}, [2]).startswith(
        f"{text}: feature column 'color' not numeric (first at line 2); ")  # a name the spec gave is shown
    holes = write(tmp_path / "holes.csv", "a,b,label\n1,2,0\n3,,1\n5,6,0\n")
    assert error_of({"path": holes, "target": "label"}, [2]) == (
        f"{holes}: 1 empty, NaN or infinite cell(s) in feature columns; the first at line 3, column 2"
    )
    no_label = write(tmp_path / "nolabel.csv", "a,b,label\n1,2,0\n3,4,\n")
    assert error_of({"path": no_label, "target": "label"}, [2]) == (
        f"{no_label}: target column 'label' has 1 empty cell(s); the first at line 3"
    )
    empty = write(tmp_path / "empty.csv", "")
    assert error_of({"path": empty, "target": "y"}, [2]) == f"{empty}: the file is empty; expected a header row and data rows"
    header_only = write(tmp_path / "header.csv", "a,b,label\n")
    assert error_of({"path": header_only, "target": "label"}, [2]) == f"{header_only}: no data rows after the header"
    assert error_of({"path": good, "target": "label", "features": ["c"]}, [2]).startswith(f"{good}: no feature column 'c'")
    assert error_of({"path": good, "image_size": 4}, [2]) == f'{good}: "image_size" applies to image folders only'
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"a,b\n\xff\xfe\x00,1\n")
    assert error_of({"path": str(binary), "target": "b"}, [1]).startswith(f"{binary}: cannot read CSV:")
    monkeypatch.setenv("ARCHBUILDER_DEBUG", "1")  # the values, on request
    assert error_of({"path": text, "target": "label"}, [2]).startswith(
        f"{text}: feature column 2 ('color') not numeric (first at line 2, value 'red'); ")
    assert error_of({"path": good, "target": "lable"}, [2]).endswith("; columns: a, b, label")


# ---------------------------------------------------------------- image folders


def make_images(folder, classes=("cat", "dog"), per_class=3, size=(6, 5), mode="RGB"):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in classes:
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            channels = {"RGB": (3,), "L": ()}[mode]
            pixels = rng.integers(0, 256, (size[1], size[0]) + channels, dtype=np.uint8)
            Image.fromarray(pixels, mode).save(folder / name / f"{i}.png")
    return str(folder)


@pytest.mark.parametrize(
    "shape, expected, mode",
    [([6, 5, 3], (6, 5, 3), "rgb"), ([6, 5, 1], (6, 5, 1), "grayscale"), ([6, 5], (6, 5), "grayscale"), ([30], (30,), "grayscale")],
)
def test_image_folder(tmp_path, shape, expected, mode):
    path = make_images(tmp_path / "images", size=(5, 6))
    size = {} if len(shape) > 1 else {"image_size": [6, 5]}
    data = load_data({"path": path, **size, "test_split": 0.34}, shape, output_units=2)
    assert data.class_names == ["cat", "dog"] and data.x_train.shape == (4,) + expected
    assert data.preprocessing["color_mode"] == mode and data.preprocessing["image_size"] == [6, 5]
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1 and data.x_train.max() > 0.5
    assert sorted(np.concatenate([data.y_train, data.y_test]).tolist()) == [0, 0, 0, 1, 1, 1]


def test_image_folder_resizes_and_uses_own_splits(tmp_path):
    make_images(tmp_path / "images" / "train", size=(10, 10), per_class=4)
    make_images(tmp_path / "images" / "test", per_class=1, size=(7, 9))
    data = load_data({"path": "images", "image_size": [4, 4]}, [4, 4, 3], base_dir=str(tmp_path), output_units=2)
    assert data.x_train.shape == (8, 4, 4, 3) and data.x_test.shape == (2, 4, 4, 3)
    assert data.y_test.tolist() == [0, 1]
    # Folders list samples class by class; the training split is shuffled so that
    # Keras's validation_split (the last samples) does not get a single class.
    assert data.y_train.tolist() != sorted(data.y_train.tolist())
    gray = load_data({"path": "images", "image_size": 4, "color_mode": "grayscale"}, [16], base_dir=str(tmp_path))
    assert gray.x_train.shape == (8, 16) and gray.preprocessing["color_mode"] == "grayscale"


def test_image_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    message = error_of({"path": str(empty)}, [4, 4, 3], output_units=2)
    assert message.startswith(f"{empty}: no images found; expected one subfolder per class")
    flat = tmp_path / "flat"
    make_images(flat)
    for png in (flat / "cat").iterdir():
        png.rename(flat / ("c" + png.name))
    for png in (flat / "dog").iterdir():
        png.unlink()
    (flat / "cat").rmdir()
    (flat / "dog").rmdir()
    assert error_of(str(flat), [6, 5, 3], output_units=2).startswith(f"{flat}: holds images but no class subfolders")
    assert load_data(str(flat), [6, 5, 3], task="reconstruction").y_train is None  # autoencoders need no classes
    hollow = tmp_path / "hollow"
    make_images(hollow)
    (hollow / "fish").mkdir()
    assert error_of(str(hollow), [6, 5, 3]) == f"{hollow}: class folder 'fish' holds no images"
    broken = tmp_path / "broken"
    make_images(broken)
    (broken / "cat" / "9.png").write_bytes(b"\x89PNG not really")
    assert error_of(str(broken), [6, 5, 3]).startswith(f"{broken / 'cat' / '9.png'}: cannot read image:")
    message = error_of(str(hollow), [30])
    assert message.startswith(f'{hollow}: needs "image_size": [height, width]; input.shape 30 does not give it')
    three = tmp_path / "three"
    make_images(three, classes=("a", "b", "c"))
    assert error_of(str(three), [6, 5, 3], output_units=2) == (
        f"{three}: 3 classes (a, b, c) but the output has 2 unit(s); set the output units to 3"
    )


# ---------------------------------------------------------------- preprocessing replay and predict inputs


def test_conform_inputs_makes_raw_batches_of_the_training_samples(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 784), dtype=np.uint8)
    x_test = rng.integers(0, 256, (4, 784), dtype=np.uint8)
    path = save_npz(tmp_path / "d.npz", x_train=x, y_train=np.arange(12) % 10, x_test=x_test, y_test=[1, 2, 3, 4])
    data = load_data({"path": path, "normalize": True}, [28, 28, 1], output_units=10)
    contract = input_contract(json.loads(json.dumps(data.preprocessing)))  # as preprocessing.json stores it
    assert contract["input"] == {"shape": [784], "dtype": "uint8"}
    assert contract["trained_input"] == {"shape": [28, 28, 1], "dtype": "float32"}
    assert contract["preprocessing"] == {"reshape": [28, 28, 1], "rescale": 1 / 255, "standardize": True}
    np.testing.assert_array_equal(conform_inputs(x_test, contract), x_test)
    np.testing.assert_array_equal(conform_inputs(x_test[0], contract), x_test[:1])  # one sample: a batch of 1
    np.testing.assert_array_equal(conform_inputs(x_test.reshape(4, 28, 28, 1), contract), x_test)
    assert conform_inputs(x_test.astype(np.float64), contract).dtype == np.uint8  # whole numbers are fine
    with pytest.raises(DataError, match=r"^in.npy: samples of shape 10 \(10 values\) do not fit input.shape 784"):
        conform_inputs(np.zeros((2, 10)), contract, "in.npy")
    with pytest.raises(DataError, match=r"^in.npy: inputs holds 1 NaN or infinite value\(s\); the first in sample 1"):
        conform_inputs(np.where(np.arange(2 * 784).reshape(2, 784) == 800, np.nan, 0.0), contract, "in.npy")
    with pytest.raises(DataError, match=r"^in.npy: the model takes uint8 values 0..255 \(8-bit pixels\); the "
                                        r"inputs hold fractions$"):
        conform_inputs(x_test / 255.0, contract, "in.npy")
    with pytest.raises(DataError, match=r"the inputs hold values from 0 to 300$"):
        conform_inputs(np.where(x_test == x_test.max(), 300, 0), contract, "in.npy")


def test_load_inputs(tmp_path):
    rows = "\n".join(f"{i},{i * 2},{i % 2}" for i in range(10))
    csv_path = write(tmp_path / "t.csv", "a,b,label\n" + rows + "\n")
    data = load_data({"path": csv_path, "target": "label", "normalize": True}, [2], output_units=2)
    contract = input_contract(data.preprocessing)
    new = write(tmp_path / "new.csv", "b,a\n4,2\n")  # columns by name; no target needed
    np.testing.assert_array_equal(load_inputs(new, contract), np.array([[2.0, 4.0]], np.float32))
    np.save(tmp_path / "in.npy", np.array([[2.0, 4.0]]))
    np.testing.assert_array_equal(load_inputs(tmp_path / "in.npy", contract), load_inputs(new, contract))
    save_npz(tmp_path / "in.npz", x_test=np.array([[2.0, 4.0]]))
    np.testing.assert_array_equal(load_inputs(tmp_path / "in.npz", contract), load_inputs(new, contract))
    with pytest.raises(DataError, match=r"no feature column 'a'"):
        load_inputs(write(tmp_path / "bad.csv", "b,c\n1,2\n"), contract)
    with pytest.raises(DataError, match=r"^missing.npy: no such file or folder$"):
        load_inputs("missing.npy", contract)
    save_npz(tmp_path / "two.npz", a=np.zeros(2), b=np.zeros(2))
    with pytest.raises(DataError, match=r"two.npz: no input array: expected key 'x' or 'x_test'; found keys: a, b$"):
        load_inputs(tmp_path / "two.npz", contract)
    with pytest.raises(DataError, match=r"in.txt: unsupported file type '.txt'"):
        load_inputs(write(tmp_path / "in.txt", "1 2"), contract)

    images = make_images(tmp_path / "images", size=(5, 6))
    data = load_data(images, [6, 5, 3], output_units=2)
    contract = input_contract(data.preprocessing)
    assert contract["input"] == {"shape": [6, 5, 3], "dtype": "uint8"} and contract["image_size"] == [6, 5]
    x, ids = load_inputs(images, contract, return_ids=True)
    assert x.shape == (6, 6, 5, 3) and x.dtype == np.uint8 and ids[0] == "cat/0.png"
    single = load_inputs(os.path.join(images, "dog", "1.png"), contract)
    np.testing.assert_array_equal(single, x[4:5])


def test_cached_arrays_are_not_shared(mnist1d):
    again = load_data("mnist1d", [40], output_units=10)
    again.x_train[:] = 0
    assert load_data("mnist1d", [40], output_units=10).x_train.any()
