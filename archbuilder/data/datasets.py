"""The named datasets: MNIST-1D (generated) and Fashion-MNIST (IDX files), as `RawData`.

Nothing is downloaded when the files are at hand: Fashion-MNIST is read from
`$ARCHBUILDER_DATA`, Keras's cache or Debian's `dataset-fashion-mnist`, parsed with
`gzip` and NumPy; only when none has them is the download tried (where Keras's
own `fashion_mnist.load_data` would fetch them from).
"""

import gzip
import os
from pathlib import Path

import numpy as np

from archbuilder.data.raw import RawData
from archbuilder.data.raw import one_line
from archbuilder.data.raw import read_only
from archbuilder.errors import DataError
from archbuilder.text import did_you_mean

__all__ = ["DATASETS", "DATASET_SAMPLES", "IMAGE_EXTENSIONS", "dataset_key", "unknown_dataset", "load_dataset", "read_idx",
           "fashion_mnist_folders"]

# name -> what it is (the schema and README describe datasets from here).
DATASETS = {
    "mnist1d": "generated on the spot by the mnist1d package: 4,000 + 1,000 sequences of 40 values, 10 classes",
    "fashion_mnist": "28×28 grey images of clothes, 60,000 + 10,000, 10 classes",
}
# name -> (one sample's shape as stored, number of classes): what `archbuilder new` checks sizes against
# without loading the data (tests/data/test_peek.py compares it with the loaded datasets).
DATASET_SAMPLES = {"mnist1d": ((40,), 10), "fashion_mnist": ((28, 28), 10)}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_HELP = (
    "install it with `apt-get install dataset-fashion-mnist`, or put the four IDX .gz "
    "files (train-images-idx3-ubyte.gz, ...) in a folder and set ARCHBUILDER_DATA to it"
)

# IDX type codes -> big-endian NumPy dtypes (http://yann.lecun.com/exdb/mnist/).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_CACHE = {}  # per-process cache of generated / parsed datasets (arrays are read-only)


def dataset_key(name):
    """The table key of a dataset name as a person may write it: `Fashion-MNIST` -> `fashion_mnist`."""
    return str(name).strip().lower().replace("-", "_")


def unknown_dataset(name):
    """The message for a dataset name that is not in `DATASETS`."""
    return (f"unknown dataset '{name}'{did_you_mean(dataset_key(name), DATASETS)}; known datasets: "
            f"{', '.join(DATASETS)}; or give the path of a .npz, .npy or .csv file or an image folder")


def load_dataset(name):
    """Returns the `RawData` of a named dataset (see `DATASETS`).

    Raises:
        DataError: unknown name, or the dataset's files cannot be found or read.
    """
    loaders = {"mnist1d": _mnist1d, "fashion_mnist": _fashion_mnist}
    key = dataset_key(name)
    if key not in DATASETS:
        raise DataError(unknown_dataset(name), str(name))
    return loaders[key]()


def _mnist1d():
    if "mnist1d" not in _CACHE:
        import mnist1d.data

        # make_dataset reseeds Python's and NumPy's global RNGs: training seeds after loading.
        data = mnist1d.data.make_dataset(mnist1d.data.get_dataset_args())
        _CACHE["mnist1d"] = read_only(
            np.asarray(data["x"]), np.asarray(data["y"]),
            np.asarray(data["x_test"]), np.asarray(data["y_test"]),
        )  # fmt: skip
    x, y, x_test, y_test = _CACHE["mnist1d"]
    return RawData(
        "mnist1d", x, y, x_test, y_test, class_names=[str(i) for i in range(10)]
    )


def fashion_mnist_folders():
    """Folders searched for the Fashion-MNIST IDX files, in order."""
    folders = []
    env = os.environ.get("ARCHBUILDER_DATA")
    if env:
        folders += [Path(env), Path(env) / "fashion-mnist", Path(env) / "fashion_mnist"]
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    folders.append(Path(keras_home) / "datasets" / "fashion-mnist")
    folders.append(Path(DEBIAN_FASHION_MNIST))
    return folders


def _idx_file(folder, stem):
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _fashion_mnist():
    for folder in fashion_mnist_folders():
        files = {k: _idx_file(folder, stem) for k, stem in FASHION_MNIST_FILES.items()}
        if all(files.values()):
            key = ("fashion_mnist", str(folder))
            if key not in _CACHE:
                arrays = {k: read_idx(p) for k, p in files.items()}
                _check_idx_pair(arrays, files)
                _CACHE[key] = arrays
            arrays = _CACHE[key]
            return RawData(
                f"fashion_mnist ({folder})", arrays["x_train"], arrays["y_train"],
                arrays["x_test"], arrays["y_test"], class_names=list(FASHION_MNIST_CLASSES),
            )  # fmt: skip
    try:
        (x, y), (x_test, y_test) = _download_fashion_mnist()
    except Exception as e:  # any failure of the download means: tell the user how to get it
        searched = ", ".join(str(f) for f in fashion_mnist_folders())
        raise DataError(
            f"Fashion-MNIST not found in {searched} and the download failed "
            f"({one_line(e)}); {FASHION_MNIST_HELP}",
            "fashion_mnist",
        ) from None
    return RawData(
        "fashion_mnist (keras download)", x, y, x_test, y_test,
        class_names=list(FASHION_MNIST_CLASSES),
    )  # fmt: skip


def _download_fashion_mnist():
    """Downloads the four IDX files from where Keras's `fashion_mnist.load_data` gets them, into Keras's cache."""
    import tempfile
    import urllib.request

    folder = fashion_mnist_folders()[-2]  # $KERAS_HOME/datasets/fashion-mnist, where Keras keeps them
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, stem in FASHION_MNIST_FILES.items():
        target = folder / f"{stem}.gz"
        if not target.is_file():
            with urllib.request.urlopen(FASHION_MNIST_URL + target.name, timeout=30) as response:
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.")
                with os.fdopen(fd, "wb") as out:
                    out.write(response.read())
                os.replace(tmp, target)
        files[key] = target
    arrays = {k: read_idx(p) for k, p in files.items()}
    _check_idx_pair(arrays, files)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _check_idx_pair(arrays, files):
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(
                f"expected images of shape (N, 28, 28) and N labels; found {x.shape} images "
                f"and {y.shape} labels in {files['y_' + split]}",
                str(files["x_" + split]),
            )


def read_idx(path):
    """Parses an IDX file (optionally gzipped) into a read-only array.

    Raises:
        DataError: the file cannot be read, is not IDX, or is truncated.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read IDX file: {one_line(e)}", str(path)) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError("not an IDX file (bad magic number)", str(path))
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError("truncated IDX header", str(path))
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"corrupt IDX file: shape {dims} needs {expected} bytes, the file holds {len(raw)}",
            str(path),
        )
    array = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return read_only(array.astype(dtype.newbyteorder("="), copy=False))[0]
