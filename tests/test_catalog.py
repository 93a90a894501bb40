"""The catalog: the shipped one is valid and complete; a broken one names file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlstarter.catalog import load_catalog
from mlstarter.errors import CatalogError

from .conftest import TEMPLATES


def test_every_template_folder_is_in_the_catalog_and_back(catalog):
    folders = {p.parent.name for p in TEMPLATES.glob("*/cookiecutter.json")}
    assert folders == {p.template for p in catalog.projects}


def test_catalog_keys_are_the_contracts_keys(catalog):
    contract = {
        "transformers", "neuralclassifier", "tdengine", "video-object-removal",
        "python-autocomplete", "tfpyth", "medicalnet",
    }  # fmt: skip
    assert set(catalog.keys) <= contract


def write(root: Path, entries) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "t").mkdir(exist_ok=True)
    (root / "t" / "cookiecutter.json").write_text("{}")
    (root / "catalog.yaml").write_text(yaml.safe_dump({"projects": entries}))
    return root


GOOD = {
    "key": "t", "title": "T", "tagline": "t", "upstream": "https://example.com", "domain": "code",
    "summary": "s", "problem": "p", "success_metric": "m", "frameworks": ["torch"],
    "hardware": "cpu", "install_size": "1 MB", "template": "t",
}  # fmt: skip


def test_a_good_entry_loads(tmp_path):
    catalog = load_catalog(write(tmp_path, [GOOD]))
    assert catalog.keys == ["t"] and catalog.get("t").frameworks == ("torch",)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"hardware": "tpu"}, "hardware"),
        ({"frameworks": []}, "frameworks"),
        ({"upstream": "ftp://x"}, "upstream"),
        ({"template": "missing"}, "template"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_broken_entry_names_file_entry_and_field(tmp_path, change, field):
    entry = {**GOOD, **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    with pytest.raises(CatalogError) as err:
        load_catalog(write(tmp_path, [GOOD, {**entry, "key": "u"}]))
    message = str(err.value)
    assert "catalog.yaml" in message and "entry 2 (u)" in message and f"'{field}'" in message


def test_duplicate_keys_are_refused(tmp_path):
    with pytest.raises(CatalogError, match="duplicate"):
        load_catalog(write(tmp_path, [GOOD, GOOD]))


def test_invalid_yaml_names_the_line(tmp_path):
    write(tmp_path, [GOOD])
    (tmp_path / "catalog.yaml").write_text("projects:\n  - key: [unclosed\n")
    with pytest.raises(CatalogError, match=r"catalog.yaml: line \d+ is not valid YAML"):
        load_catalog(tmp_path)


def test_a_missing_catalog_is_reported(tmp_path):
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path)
