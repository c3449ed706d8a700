"""Arrays as a source stores them, before splitting, scaling and reshaping."""

import dataclasses

import numpy as np

__all__ = ["RawData", "one_line", "read_only"]


@dataclasses.dataclass
class RawData:
    """Arrays as a source stores them, before splitting, scaling and reshaping.

    `x_train`/`y_train` hold all samples when the source has no test split.
    `info` holds the reader settings that go into `preprocessing.json`
    (`features`, `target`, `image_size`, `color_mode`); `text_labels` is true
    when the labels were text turned into class ids.
    """

    source: str
    x_train: np.ndarray
    y_train: np.ndarray = None
    x_test: np.ndarray = None
    y_test: np.ndarray = None
    x_val: np.ndarray = None
    y_val: np.ndarray = None
    class_names: list = None
    info: dict = dataclasses.field(default_factory=dict)
    text_labels: bool = False
    sorted_by_class: bool = False


def one_line(error):
    """The first line of an exception's message (its type's name when it has none)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def read_only(*arrays):
    """Marks arrays read-only (they are cached and shared); returns them."""
    for a in arrays:
        a.flags.writeable = False
    return arrays
