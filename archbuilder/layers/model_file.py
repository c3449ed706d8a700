"""A `.keras` file read as data: its archive and its `config.json` — no backend.

A `.keras` file is a zip archive holding `config.json` (the model's serialized
objects), `metadata.json`, `model.weights.h5` and, for a few layers, `assets/`.
Before Keras sees one, archbuilder reads it here as plain data:

- only a regular file is opened (a FIFO would block, `/dev/zero` never ends);
- `config.json` is read as plain JSON (`read_model_config`); its objects are checked
  by `archbuilder.layers.allow_list` and its parameters counted by
  `archbuilder.layers.model_count`;
- the archive is checked before anything is extracted (`check_archive`): the number of
  members, each member's and the total uncompressed size, against limits derived from
  the declared parameters, and the weights file's arrays against the same count.

Example:
    >>> config = read_model_config("base.keras")
    >>> check_archive("base.keras", params=818_700, layers=12)
"""

import io
import json
import math
import os
import zipfile

from archbuilder.errors import ArchbuilderError
from archbuilder.format.jsonfile import special_file
from archbuilder.text import count as fmt_count
from archbuilder.text import short

__all__ = ["ModelFileError", "MAX_CONFIG_BYTES", "MAX_ASSET_BYTES", "open_archive", "read_model_config",
           "check_archive", "weights_budget"]

# config.json of a large model is a few MB; more is a zip bomb or not a model.
MAX_CONFIG_BYTES = 64 * 1024 * 1024
# assets/ (vocabularies of lookup layers): archbuilder's own models have none.
MAX_ASSET_BYTES = 64 * 1024 * 1024
_SMALL_MEMBER = 1024 * 1024  # metadata.json and any other small file
_PER_VARIABLE = 16 * 1024  # HDF5's bookkeeping per stored array
_BYTES_PER_PARAM = 8  # float64 at most
_OPTIMIZER_COPIES = 3  # a checkpoint's optimizer slots (Adam: 2) and the weights themselves


class ModelFileError(ArchbuilderError):
    """A model file that cannot be read or loaded.

    Args:
        source: the file's name as given.
        message: what is wrong, on one line.
    """

    def __init__(self, source, message):
        self.source = str(source)
        self.message = " ".join(str(message).split())
        super().__init__(f"{self.source}: {self.message}")


# ---------------------------------------------------------------- the archive


def open_archive(path, source=None):
    """The `.keras` file `path` as an open `zipfile.ZipFile` (the caller closes it).

    Raises:
        ModelFileError: not a `.keras` name, missing, not a regular file, not a zip archive.
    """
    source = source or os.fspath(path)

    def fail(message):
        raise ModelFileError(source, f"cannot load: {message}")

    if not os.fspath(path).endswith(".keras"):
        fail("not a .keras file (archbuilder loads Keras 3 `.keras` model archives only)")
    try:
        kind = special_file(os.stat(path).st_mode)
    except FileNotFoundError:
        fail("no such file")
    except OSError as e:
        fail(e.strerror or str(e))
    if kind:
        fail(f"{kind}, not a .keras file")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        fail(f"not a .keras model archive (not a valid zip file: {e})")
    except OSError as e:
        fail(e.strerror or str(e))
    except (ValueError, EOFError) as e:
        fail(f"corrupt .keras archive ({e})")


def read_model_config(path, source=None):
    """Reads the `config.json` of a `.keras` file as plain JSON; nothing is deserialized.

    Args:
        path: the `.keras` file.
        source: the name used in messages (default: `path`).

    Returns:
        The parsed config (a dict).

    Raises:
        ModelFileError: the file is missing, not a `.keras` zip archive, corrupt,
            has no `config.json`, or its `config.json` is not a JSON object.
    """
    source = source or os.fspath(path)

    def fail(message):
        raise ModelFileError(source, f"cannot load: {message}")

    with open_archive(path, source) as archive:
        try:
            info = archive.getinfo("config.json")
        except KeyError:
            fail("the archive has no config.json; it is not a Keras 3 model file")
        if info.file_size > MAX_CONFIG_BYTES:
            fail(f"config.json is {info.file_size:,} bytes, over the limit of {MAX_CONFIG_BYTES:,}")
        try:
            with archive.open(info) as member:
                data = member.read(MAX_CONFIG_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as e:
            # RuntimeError: encrypted member; NotImplementedError: unknown compression.
            fail(f"corrupt .keras archive: config.json cannot be read ({e})")
    if len(data) > MAX_CONFIG_BYTES:
        fail(f"config.json is over the limit of {MAX_CONFIG_BYTES:,} bytes")
    try:
        config = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        fail("config.json is not UTF-8 text")
    except json.JSONDecodeError as e:
        fail(f"config.json is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})")
    except (ValueError, RecursionError) as e:
        fail(f"config.json is not valid JSON ({str(e).splitlines()[0] if str(e) else 'too deep'})")
    if not isinstance(config, dict) or "class_name" not in config:
        fail("config.json does not describe a Keras model")
    return config


def weights_budget(params, variables, optimizer=True):
    """The most bytes the weights of `params` parameters in `variables` arrays may take in a file:
    float64 at most, the optimizer's slots too when `optimizer`, and HDF5's bookkeeping per array."""
    copies = _OPTIMIZER_COPIES if optimizer else 1
    return params * _BYTES_PER_PARAM * copies + (variables + 16) * _PER_VARIABLE


def check_archive(path, params, layers, *, optimizer=True, variables=None, source=None):
    """Checks a `.keras` archive against the size its model declares, before anything is extracted.

    Args:
        path: the `.keras` file.
        params: the model's parameter count (`count_model`, or the built model's own).
        layers: its number of layers (each may store a few arrays and assets).
        optimizer: whether optimizer slots may be stored beside the weights.
        variables: the number of arrays stored, if known (else 8 per layer).
        source: the name used in messages.

    Raises:
        ModelFileError: too many members, a member or the total over its limit, a
            weights file whose arrays hold more values than the model declares, or
            arrays stored outside the file (external links, external or virtual storage).
    """
    source = source or os.fspath(path)
    variables = variables if variables is not None else 8 * (layers + 1)
    budget = weights_budget(params, variables, optimizer)
    limits = {"config.json": MAX_CONFIG_BYTES, "model.weights.h5": budget}
    max_members = 16 + 4 * (layers + 1)
    declared = f"the model declares {fmt_count(params)} parameters in {layers:,} layers"
    with open_archive(path, source) as archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise ModelFileError(source, f"refused: the archive has {len(members):,} members, over the limit of "
                                         f"{max_members:,} ({declared})")
        assets = total = 0
        for info in members:
            name = info.filename
            limit = limits.get(name, MAX_ASSET_BYTES if name.startswith("assets/") else _SMALL_MEMBER)
            if info.file_size > limit:
                raise ModelFileError(source, f"refused: {short(name)} unpacks to {info.file_size:,} bytes, over the "
                                             f"limit of {limit:,} ({declared})")
            assets += info.file_size if name.startswith("assets/") else 0
            total += info.file_size
        if assets > MAX_ASSET_BYTES:
            raise ModelFileError(source, f"refused: assets/ unpacks to {assets:,} bytes, over the limit of "
                                         f"{MAX_ASSET_BYTES:,}")
        if total > budget + MAX_CONFIG_BYTES + MAX_ASSET_BYTES:
            raise ModelFileError(source, f"refused: the archive unpacks to {total:,} bytes ({declared})")
        if "model.weights.h5" in archive.namelist():
            _check_weights(archive, params, optimizer, source, declared)


def _check_weights(archive, params, optimizer, source, declared):
    """The arrays of model.weights.h5 hold no more than the declared parameters (and slots) allow.

    HDF5 compresses arrays, so a small weights file can still declare a huge one; h5py
    reads only the arrays' shapes here, never their data.
    """
    import h5py

    most = params * (_OPTIMIZER_COPIES if optimizer else 1) + 64  # iteration counters, seeds
    try:
        data = archive.read("model.weights.h5")
        found = []
        with h5py.File(io.BytesIO(data), "r") as h5:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    if obj.is_virtual or obj.external:
                        found.append((name, None))
                    else:
                        found.append((name, math.prod(obj.shape or (1,))))
                return None

            h5.visititems(visit)
            links = []
            h5.visititems_links(lambda name, link: links.append(name) if isinstance(
                link, (h5py.ExternalLink, h5py.SoftLink)) else None)
    except (OSError, ValueError, KeyError, RuntimeError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFileError(source, f"cannot load: model.weights.h5 is not a readable HDF5 file "
                                     f"({(str(e).splitlines() or [type(e).__name__])[0][:120]})") from None
    outside = [name for name, size in found if size is None] + links
    if outside:
        raise ModelFileError(source, f"refused: model.weights.h5 points outside the file ({short(outside[0])})")
    stored = sum(size for _, size in found)
    if stored > most:
        raise ModelFileError(source, f"refused: model.weights.h5 holds {fmt_count(stored)} values; {declared}")
