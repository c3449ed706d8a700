"""README and code agree: the Python API table is the real signatures, and no text refers to files
that are not in the repository (a user's clone has no design notes and no shared folder beside it)."""

import inspect
import json
import pathlib
import re
import subprocess

import numpy as np
import pytest

import archbuilder

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
RECORDED = ("tests/fixtures/",)  # files of old runs, as they were written on another machine: data, not text
# Spelt in pieces so that this file does not match itself.
NOT_THERE = [re.escape("design" + ".md"), re.escape("../" + "shared"), r'"\.\.",\s*"' + "shared" + '"',
             re.escape("/work" + "/"), "the seed" + "'s"]


def _api_rows():
    section = README[README.index("## Python API"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"^\| `archbuilder\.(\w+)\((.*)\)` \|", section, re.M)


def test_the_python_api_table_is_the_signatures():
    rows = _api_rows()
    assert len(rows) >= 14
    for name, signature in rows:
        assert name in archbuilder.__all__, name
        assert str(inspect.signature(getattr(archbuilder, name))) == f"({signature})", name


def test_every_public_function_is_in_the_table():
    documented = {name for name, _ in _api_rows()}
    functions = {n for n in archbuilder.__all__ if inspect.isfunction(getattr(archbuilder, n))}
    assert functions - documented == set()
    errors = {n for n in archbuilder.__all__ if inspect.isclass(getattr(archbuilder, n))}
    assert all(f"`{n}`" in README[README.index("## Python API"):] for n in errors - {"ArchbuilderError"})


def _tracked_text_files():
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        path = ROOT / name
        if name.startswith(RECORDED) or not path.is_file():
            continue
        try:
            yield name, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images, archives


def test_no_text_refers_to_files_that_are_not_there():
    found = []
    for name, text in _tracked_text_files():
        for pattern in NOT_THERE:
            found += [f"{name}:{text[:m.start()].count(chr(10)) + 1}: {m.group()}"
                      for m in re.finditer(pattern, text, re.I)]
        named = [] if name.startswith("tests/") else re.finditer(r"(?<![\w/.}$-])([\w-]+\.md)\b", text)
        for m in named:  # a notes file named in the package, docs or benches must exist (tests make their own)
            if not (ROOT / m.group(1)).exists() and not (ROOT / name).with_name(m.group(1)).exists():
                found.append(f"{name}: {m.group(1)}")
        if name.endswith(".md"):
            for m in re.finditer(r"\]\(([^)#\s]+)(#[^)]*)?\)", text):  # Markdown links to files
                if not re.match(r"\w+://", m.group(1)) and not ((ROOT / name).parent / m.group(1)).exists():
                    found.append(f"{name}: link to {m.group(1)}")
    assert found == []


def test_the_shipped_schema_descriptions_name_no_missing_file():
    schema = (ROOT / "archbuilder" / "format" / "schema" / "spec-v1.schema.json").read_text(encoding="utf-8")
    descriptions = " ".join(re.findall(r'"description": "((?:[^"\\]|\\.)*)"', schema))
    assert descriptions and not any(re.search(p, descriptions, re.I) for p in NOT_THERE)


@pytest.fixture
def tiny_search(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(48, 4)).astype("float32"), y=np.arange(48) % 2)
    spec = {"spec_version": 1, "name": "tiny", "family": "custom", "input": {"shape": [4]},
            "layers": [{"type": "Dense", "units": {"choice": [2, 4]}, "activation": "relu"},
                       {"type": "Dense", "units": 2, "activation": "softmax"}],
            "training": {"epochs": 5, "batch_size": 16}, "data": {"path": "d.npz"}}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(spec))
    return path


def test_tune_takes_epochs_as_the_table_says(tiny_search, tmp_path, monkeypatch):
    """`archbuilder.tune("x.json", max_trials=2, epochs=2)`: a TypeError before; now each trial runs 2 epochs."""
    import keras

    ran = []
    fit = keras.Model.fit

    def counting_fit(model, *args, **kwargs):
        history = fit(model, *args, **kwargs)
        ran.append(len(history.epoch))
        return history

    monkeypatch.setattr(keras.Model, "fit", counting_fit)
    result = archbuilder.tune(str(tiny_search), max_trials=2, epochs=2, batch_size=8, out=str(tmp_path / "run"),
                              quiet=True)
    assert len(result.trials) == 2 and set(result.trials["status"]) == {"COMPLETED"}
    assert ran[:2] == [2, 2]  # the spec says 5 (the best model may be retrained after: also 2)
    assert set(ran) == {2}
    searched = json.loads((tmp_path / "run" / "spec.json").read_text())
    assert searched["training"]["epochs"] == 2 and searched["training"]["batch_size"] == 8
