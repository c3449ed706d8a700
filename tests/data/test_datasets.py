"""The named datasets' table and their names as people write them."""

import pytest

from archbuilder.data import datasets
from archbuilder.errors import DataError


def test_names_are_read_as_people_write_them():
    assert datasets.dataset_key(" Fashion-MNIST ") == "fashion_mnist"
    assert datasets.load_dataset("MNIST1D").x_train.shape == (4000, 40)


def test_an_unknown_name_says_what_is_known():
    with pytest.raises(DataError) as info:
        datasets.load_dataset("fashionmnist")
    assert str(info.value).startswith("fashionmnist: unknown dataset 'fashionmnist' (did you mean 'fashion_mnist'?)")
    assert "known datasets: mnist1d, fashion_mnist" in str(info.value)


def test_the_fashion_mnist_download_goes_where_keras_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert datasets.fashion_mnist_folders()[-2] == tmp_path / "datasets" / "fashion-mnist"
