"""`archbuilder.data.peek`: the quick look `archbuilder new` takes at data, against what loading reads."""

import numpy as np
import pytest

from archbuilder.data.datasets import DATASET_SAMPLES
from archbuilder.data.datasets import load_dataset
from archbuilder.data.parse import parse_data
from archbuilder.data.peek import glance
from archbuilder.errors import DataError


@pytest.mark.parametrize("name", sorted(DATASET_SAMPLES))
def test_the_dataset_table_matches_the_loaded_datasets(name):
    raw = load_dataset(name)
    shape, classes = DATASET_SAMPLES[name]
    assert raw.x_train.shape[1:] == shape and raw.x_test.shape[1:] == shape
    assert len(raw.class_names) == classes == int(raw.y_train.max()) + 1


def _glance(value):
    return glance(parse_data(value)[0])


def test_numpy_files_are_read_by_their_headers(tmp_path):
    np.savez_compressed(tmp_path / "d.npz", x_train=np.zeros((30, 9, 7, 1), np.uint8), y_train=np.arange(30) % 5)
    seen = _glance(str(tmp_path / "d.npz"))
    assert (seen.shape, seen.classes, seen.images) == ((9, 7, 1), 5, False)
    np.savez(tmp_path / "r.npz", x=np.zeros((4, 3)), y=np.linspace(0, 1, 4))  # regression targets: no classes
    assert (_glance(str(tmp_path / "r.npz")).shape, _glance(str(tmp_path / "r.npz")).classes) == ((3,), None)
    np.save(tmp_path / "x.npy", np.zeros((6, 40, 2), np.float32))
    np.save(tmp_path / "y.npy", np.array([0, 1, 2, 0, 1, 2]))
    assert _glance(str(tmp_path / "x.npy")).shape == (40, 2)
    both = _glance(f'{{"x": "{tmp_path / "x.npy"}", "y": "{tmp_path / "y.npy"}"}}')
    assert (both.shape, both.classes) == ((40, 2), 3)
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match=r"bad.npy: cannot read: "):
        _glance(str(tmp_path / "bad.npy"))


def test_a_csv_header_gives_the_features_and_its_labels_the_classes(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,c,label\n1,2,3,x\n4,5,6,y\n7,8,9,x\n")
    seen = _glance(str(tmp_path / "t.csv"))
    assert (seen.shape, seen.classes, seen.label_guess) == ((4,), None, "label")  # no target yet: every column
    spec = {"path": str(tmp_path / "t.csv"), "target": "label"}
    assert (glance(spec).shape, glance(spec).classes) == ((3,), 2)
    (tmp_path / "n.csv").write_text("a,b,y\n1,2,0.5\n4,5,1.5\n")
    assert glance({"path": str(tmp_path / "n.csv"), "target": "y"}).classes is None  # numbers: maybe regression


def test_an_image_folder_gives_its_first_image_and_classes(tmp_path):
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / "train" / name).mkdir(parents=True)
        Image.fromarray(np.zeros((5, 8), np.uint8)).save(tmp_path / "train" / name / "0.png")
    seen = _glance(str(tmp_path))
    assert (seen.shape, seen.classes, seen.images) == ((5, 8, 1), 2, True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images found"):
        _glance(str(tmp_path / "empty"))
