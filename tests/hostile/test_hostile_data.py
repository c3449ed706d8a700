"""Findings 5, 6, 8, 10, 13 and the data cases of 9: data reading that is bounded, exact and discreet."""

import os
import textwrap

import numpy as np
import pytest

import archbuilder
from archbuilder.data.load import load_data
from archbuilder.errors import DataError
from hostile_corpus import run_python


def error_of(data, shape, **kwargs):
    with pytest.raises(DataError) as info:
        load_data(data, shape, **kwargs)
    text = str(info.value)
    assert "\n" not in text
    return text


def _wide_csv(path, columns, rows=5):
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(f"c{i}" for i in range(columns - 1)) + ",label\n")
        row = ",".join(["1"] * (columns - 1))
        for r in range(rows):
            f.write(f"{row},{r % 2}\n")
    return str(path)


def test_5_a_csv_of_100000_columns_loads(tmp_path):
    # The column check was quadratic: 85 s for this file (136 s on the red team's machine). The timeout
    # is a hang guard, several times what a linear check takes on a loaded 2-core machine.
    path = _wide_csv(tmp_path / "wide.csv", 100_000)
    result = run_python(textwrap.dedent(f"""
        from archbuilder.data.load import load_data
        data = load_data({{"path": {path!r}, "target": "label"}}, [99_999], output_units=2)
        print(data.x_train.shape, data.x_test.shape)
    """), timeout=30)
    assert result.returncode == 0 and result.stdout.split("\n")[0] == "(4, 99999) (1, 99999)", result.stderr[-2000:]


def test_5_a_csv_over_the_column_limit_is_refused_from_its_header(tmp_path):
    path = _wide_csv(tmp_path / "wider.csv", 1_000_000, rows=1)
    result = run_python(textwrap.dedent(f"""
        from archbuilder.data.load import load_data
        load_data({{"path": {str(path)!r}, "target": "label"}}, [999_999], output_units=2)
    """), timeout=60)  # on main: did not finish in 120 s
    assert result.stderr.strip().splitlines()[-1] == (
        f"archbuilder.errors.DataError: {path}: the header has 1,000,000 columns, over the limit of 100,000")


def test_6_errors_never_print_a_cell_or_a_header_name_of_the_file(tmp_path, monkeypatch):
    secret = "FAKEsecretKEYwJalrXUtnFEMI/K7MDENG/bPxRfiCY123"
    aws = tmp_path / "aws.csv"
    aws.write_text(f"User name,Access key ID,Secret access key\nalice,AKIAFAKE0000,{secret}\nbob,AKIAFAKE1111,{secret}\n")
    message = error_of({"path": str(aws), "target": "User name"}, [2])
    assert message == (f"{aws}: feature columns 2, 3 not numeric (first at line 2); encode them as numbers, or list "
                       'the numeric columns in "features"; ARCHBUILDER_DEBUG=1 shows the values')
    key = tmp_path / "id_ed25519.csv"  # a private key named .csv, read by an autoencoder spec
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n"
                   "-----END OPENSSH PRIVATE KEY-----\n")
    message = error_of({"path": str(key)}, [1], task="reconstruction")
    assert "BEGIN" not in message and "b3Blbn" not in message and message.startswith(f"{key}: feature column 1 ")
    monkeypatch.setenv("ARCHBUILDER_DEBUG", "1")  # asked for, the values are shown
    assert "'AKIAFAKE0000'" in error_of({"path": str(aws), "target": "User name"}, [2])


def test_8_values_that_overflow_float32_are_refused_after_the_cast(tmp_path):
    table = tmp_path / "big.csv"
    table.write_text("a,b,label\n" + "\n".join(f"{i},{1e300 if i == 3 else i},{i % 2}" for i in range(10)) + "\n")
    message = error_of({"path": str(table), "target": "label"}, [2], output_units=2)
    assert message.startswith(f"{table}: x_") and "1 value(s) that are infinite once cast to float32" in message
    big = tmp_path / "x.npy"
    np.save(big, np.full((4, 3), 1e300))
    model = tmp_path / "m.keras"
    import keras

    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(model)
    with pytest.raises(DataError, match=r"inputs holds 12 value\(s\) that are infinite once cast to float32"):
        archbuilder.predict(str(model), str(big))


def test_9_a_header_field_over_the_csv_limit_is_one_line(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("a" * 131_073 + ",label\n1,0\n2,1\n")
    assert error_of({"path": str(path), "target": "label"}, [1]) == (
        f"{path}: line 1: a header cell is over 131,072 characters")


def test_9_a_huge_image_size_is_refused_before_allocation(tmp_path):
    from PIL import Image

    for label in ("a", "b"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (4, 4)).save(tmp_path / "images" / label / f"{i}.png")
    message = error_of({"path": str(tmp_path / "images"), "image_size": [2_000_000, 2_000_000]},
                       [2_000_000, 2_000_000, 3])
    assert message.startswith(f"{tmp_path / 'images'}: 6 image(s) of 2000000x2000000x3 needs 72.0 TB; ")
    assert message.endswith('of memory is available; use a smaller "image_size"')


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_10_special_files_are_refused_without_reading_them(tmp_path, kind):
    path = tmp_path / "d.csv"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    code = (f"from archbuilder.data.load import load_data\n"
            f"load_data({{'path': {str(path)!r}, 'target': 'y'}}, [1])")
    result = run_python(code, timeout=30)  # on main: blocks forever / grows memory until it fails
    what = "a FIFO (named pipe)" if kind == "fifo" else "a character device"
    assert result.stderr.strip().splitlines()[-1] == (
        f"archbuilder.errors.DataError: {path}: {what}, not a regular file; data files are read whole, so only "
        "regular files are")


def test_13_messages_say_what_is_true(tmp_path, monkeypatch):
    x = np.random.default_rng(0).normal(size=(10, 2)).astype("float32")
    labels = tmp_path / "labels.npz"
    np.savez(labels, x=x, y=np.array([0, 1] * 4 + [1, 2**64 - 1], dtype=np.uint64))
    assert error_of(str(labels), [2], output_units=2) == (
        f"{labels}: a label of y_train (sample 9) is out of range for 2 output unit(s); labels must be 0..1 "
        "(ARCHBUILDER_DEBUG=1 shows the values)")
    fake = tmp_path / "x.npy"
    fake.write_bytes(b"this is plain text, not NumPy")
    assert error_of({"x": str(fake), "y": str(fake)}, [2]) == (
        f"{fake}: not a NumPy file: it starts with neither a .npy header nor a .npz (zip) header; save arrays "
        "with numpy.save / numpy.savez")
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("flag,size,label\n" + "\n".join(f"{i % 2 == 0},{i * 1.5},{i % 2}" for i in range(10)) + "\n")
    data = load_data({"path": str(mixed), "target": "label", "test_split": 0.5, "seed": 0}, [2], output_units=2)
    raw = np.concatenate([data.x_train, data.x_test])
    assert sorted(raw[:, 0].tolist()) == [0.0] * 5 + [1.0] * 5  # booleans read as 0 and 1
    assert sorted(raw[:, 1].tolist()) == [i * 1.5 for i in range(10)]
    good = tmp_path / "good.npz"
    np.savez(good, x=x, y=np.arange(10) % 2)
    assert error_of({"x": str(good)}, [2]) == (
        f'{good}: "x" names a .npz archive; write {{"path": "good.npz"}} (and "x", "y" for the names of arrays '
        "inside it)")
    monkeypatch.setenv("ARCHBUILDER_DEBUG", "1")
    assert "(sample 9, label 18446744073709551615)" in error_of(str(labels), [2], output_units=2)
