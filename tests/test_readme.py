"""The README's front door: its test command is what CI runs, and its catalog table is current."""

from __future__ import annotations

import re

from .conftest import REPO


def fenced_commands(text: str) -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", text, re.S)


def test_ci_runs_exactly_the_readmes_test_command():
    readme = (REPO / "README.md").read_text()
    test_section = readme.split("## Test it", 1)[1].split("##", 1)[0]
    (command,) = fenced_commands(test_section)
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert command in ci_lines


def test_readme_catalog_table_lists_every_project(catalog):
    readme = (REPO / "README.md").read_text()
    table = readme.split("<!-- catalog:begin -->", 1)[1].split("<!-- catalog:end -->", 1)[0]
    keys = re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.M)
    assert keys == catalog.keys
    for project in catalog.projects:
        assert project.upstream in table and project.tagline in table
