"""NumPy data files: `.npy` arrays and `.npz` archives, read with `allow_pickle=False`.

Before NumPy reads a file, its first bytes say whether it is one at all (a `.npy` header
or a zip archive), and the size its header declares is checked against the file and
the memory available, so a small file cannot make NumPy allocate a huge array.
"""

import os
import zipfile

import numpy as np

from archbuilder.data.limits import check_allocation
from archbuilder.data.limits import regular_file
from archbuilder.data.raw import RawData
from archbuilder.data.raw import one_line
from archbuilder.errors import DataError
from archbuilder.text import did_you_mean

__all__ = ["read_npy", "read_npz", "read_npz_inputs"]

_NPY = b"\x93NUMPY"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_PICKLED = ("holds pickled Python objects, which archbuilder does not load; save plain numeric arrays "
            "(numpy.save / numpy.savez)")


def _header(f, source, name):
    """`(shape, dtype)` from a `.npy` header at `f`'s position (NumPy's own reader), or a DataError."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"cannot read{name}: not a valid .npy header ({one_line(e)})", source) from None
    return shape, dtype


def _check_declared(shape, dtype, stored, source, name):
    """The array a header declares must fit in the bytes stored and in the memory available."""
    if dtype.hasobject:
        raise DataError(f"{name.strip(': ') + ' ' if name else ''}{_PICKLED}", source)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if stored is not None and nbytes > stored:
        raise DataError(f"cannot read{name}: its header declares {nbytes:,} bytes of data but the file holds "
                        f"{stored:,}", source)
    check_allocation(nbytes, f"the array{name.rstrip(':')} of shape {list(shape)}", source,
                     'use "max_samples" on a smaller file, or a machine with more memory')


def _check_file(path, source):
    """Refuses what is not a NumPy file before NumPy reads it; returns `"npy"` or `"npz"`."""
    regular_file(path, source)
    with open(path, "rb") as f:
        magic = f.read(6)
        if magic.startswith(_ZIP):
            return "npz"
        if magic != _NPY:
            raise DataError("not a NumPy file: it starts with neither a .npy header nor a .npz (zip) header; "
                            "save arrays with numpy.save / numpy.savez", source)
        f.seek(0)
        shape, dtype = _header(f, source, "")
        stored = os.fstat(f.fileno()).st_size - f.tell()
    _check_declared(shape, dtype, stored, source, "")
    return "npy"


def _check_members(path, source):
    """Every `.npy` member of a `.npz`: a valid header declaring no more than it stores and memory holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                name = f" '{info.filename[:-4]}':"
                with archive.open(info) as member:
                    shape, dtype = _header(member, source, name)
                    stored = info.file_size - member.tell()
                _check_declared(shape, dtype, stored, source, name)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise DataError(f"cannot read: {one_line(e)}", source) from None


def _load_numpy(path, source):
    kind = _check_file(path, source)
    if kind == "npz":
        _check_members(path, source)
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise DataError(_PICKLED, source) from None
        raise DataError(f"cannot read: {one_line(e)}", source) from None
    except Exception as e:  # corrupt zip, truncated file, bad header, ...
        raise DataError(f"cannot read: {one_line(e)}", source) from None


def read_npy(path, source):
    """Reads one array from a `.npy` file."""
    array = _load_numpy(path, source)
    if not isinstance(array, np.ndarray):
        array.close()
        raise DataError("expected a .npy array file; this is a .npz archive", source)
    return array


def _array(archive, key, source):
    try:
        return archive[key]
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise DataError(_PICKLED, source) from None
        raise DataError(f"cannot read '{key}': {one_line(e)}", source) from None
    except Exception as e:
        raise DataError(f"cannot read '{key}': {one_line(e)}", source) from None


def _names(keys, names, need_y, source):
    """The archive key of each array (`x`, `y`, `x_test`, ...): Keras's convention, `x`/`y`, or as named."""
    found = ", ".join(keys) if keys else "none"
    names = dict(names or {})
    if "x" not in names:
        prefix = "x_train" if "x_train" in keys else "x" if "x" in keys else None
        if prefix is None:
            raise DataError("no input array: expected keys x_train, y_train, x_test, y_test or x, y "
                            f'(or name them with "x" and "y"); found keys: {found}', source)
        names["x"] = prefix
        for k in ("y", "x_test", "y_test", "x_val", "y_val"):
            default = "y_train" if k == "y" and prefix == "x_train" else k
            if default in keys:
                names.setdefault(k, default)
    for k, key in names.items():
        if key not in keys:
            raise DataError(f"no array '{key}' (for \"{k}\"){did_you_mean(key, keys)}; found keys: {found}", source)
    if need_y and "y" not in names:
        raise DataError(f"no labels: expected a 'y_train' or 'y' array (or name it with \"y\"); found keys: {found}",
                        source)
    for x_key, y_key in (("x_test", "y_test"), ("x_val", "y_val")):
        if need_y and (x_key in names) != (y_key in names):
            have, lack = (x_key, y_key) if x_key in names else (y_key, x_key)
            raise DataError(f"has '{names[have]}' but no '{lack}'; found keys: {found}", source)
    return names


def read_npz(path, source, names=None, need_y=True):
    """Reads a `.npz` archive: `x_train`/`y_train`/`x_test`/`y_test` (Keras's
    convention, optional `x_val`/`y_val`) or `x`/`y` (optional `x_test`/`y_test`).

    Args:
        names: key overrides, e.g. `{"x": "features", "y": "labels"}`.
        need_y: whether labels are required (false for autoencoders).
    """
    archive = _load_numpy(path, source)
    if isinstance(archive, np.ndarray):
        raise DataError("expected a .npz archive; this is a single .npy array", source)
    with archive:
        names = _names(list(archive.files), names, need_y, source)
        fields = {"x": "x_train", "y": "y_train"}
        arrays = {fields.get(k, k): _array(archive, key, source) for k, key in names.items()}
    return RawData(source, **arrays)


def read_npz_inputs(path, source):
    """Reads the inputs of a `.npz` for `predict`: `x`, else `x_test`, else its only array."""
    archive = _load_numpy(path, source)
    if isinstance(archive, np.ndarray):
        return archive
    with archive:
        keys = list(archive.files)
        key = next((k for k in ("x", "x_test") if k in keys), keys[0] if len(keys) == 1 else None)
        if key is None:
            found = ", ".join(keys) or "none"
            raise DataError(f"no input array: expected key 'x' or 'x_test'; found keys: {found}", source)
        return _array(archive, key, source)
