"""What the tests share: the repository's paths, the shipped specs, small data files made on the spot.

The helper modules beside this file (`backend_parity` — specs written out as the
model builders read them —, `fuzz_strategies`, `hostile_corpus` — the hostile-input
tests' tiny data and spec) are importable from every test folder.
"""

import csv
import pathlib
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent
SPECS = sorted((ROOT / "specs").glob("*.json"))
FIXTURES = TESTS / "fixtures"

if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def shipped_specs():
    """Every spec file in specs/."""
    return list(SPECS)


def write_wine_csv(path, rows=None):
    """scikit-learn's wine data (13 numeric features on very different scales, 3 classes) as a CSV
    with a text label column `cultivar`; `rows` keeps the first rows of a fixed shuffle."""
    import numpy as np
    from sklearn.datasets import load_wine

    data = load_wine()
    order = np.random.default_rng(0).permutation(len(data.target))[:rows]
    names = ["barbera", "grignolino", "nebbiolo"]
    columns = [name.replace("/", "_").replace(" ", "_") for name in data.feature_names]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns + ["cultivar"])
        for i in order:
            writer.writerow([repr(float(v)) for v in data.data[i]] + [names[data.target[i]]])
    return path


@pytest.fixture
def wine_csv(tmp_path):
    """A wine CSV in the test's folder (178 rows, 13 features, text labels)."""
    return write_wine_csv(tmp_path / "wine.csv")
