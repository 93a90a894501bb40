"""The featured projects: load and validate `templates/catalog.yaml`.

This module sits on the start-up path of `mlstarter --help`, `list` and `info`: it must not import
cookiecutter or jinja2.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from mlstarter.errors import CatalogError, UsageError

CATALOG_FILE = "catalog.yaml"
HARDWARE = {"cpu": "CPU is enough", "gpu-recommended": "GPU recommended"}
TEXT_FIELDS = (
    "key",
    "title",
    "tagline",
    "upstream",
    "domain",
    "summary",
    "problem",
    "success_metric",
    "hardware",
    "install_size",
    "template",
)


@dataclass(frozen=True)
class Project:
    """One featured project and the template that starts it."""

    key: str
    title: str
    tagline: str
    upstream: str
    domain: str
    summary: str
    problem: str
    success_metric: str
    frameworks: tuple[str, ...]
    hardware: str
    install_size: str
    template: str
    template_dir: Path
    origin: str = "bundled"  # or "private": an instructor's own template (--template PATH)

    def card(self) -> dict[str, object]:
        """The project as plain data, for `info --json` and `list --json`."""
        return {
            "key": self.key,
            "title": self.title,
            "tagline": self.tagline,
            "upstream": self.upstream,
            "domain": self.domain,
            "summary": self.summary,
            "problem": self.problem,
            "success_metric": self.success_metric,
            "frameworks": list(self.frameworks),
            "hardware": self.hardware,
            "install_size": self.install_size,
            "template": self.template,
        }


def templates_root() -> Path:
    """The folder holding catalog.yaml and the templates.

    In an installed wheel the templates ship inside the package; in a source checkout (editable
    install, tests) they are the repository's top-level `templates/`.
    """
    return bundled_root()


def bundled_root() -> Path:
    """mlstarter's own templates folder (`templates_root` unless a test points that elsewhere)."""
    packaged = Path(__file__).resolve().parent / "templates"
    if (packaged / CATALOG_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


class Catalog:
    """The validated list of featured projects, in catalog order."""

    def __init__(self, projects: list[Project], path: Path) -> None:
        self.projects = projects
        self.path = path
        self._by_key = {p.key: p for p in projects}

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.projects]

    @property
    def domains(self) -> list[str]:
        return sorted({p.domain for p in self.projects})

    def get(self, key: str) -> Project:
        """The project named `key`; an unknown key is a usage error naming the closest one."""
        try:
            return self._by_key[key]
        except KeyError:
            raise UsageError(f"unknown project '{key}'{_suggest(key, self.keys)}") from None


PRIVATE_KEY = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
PROJECT_FOLDER = re.compile(r"\{\{\s*cookiecutter\.project_slug\s*\}\}")


def private_template(path: Path, catalog: Catalog) -> Project:
    """An instructor's own cookiecutter template (`--template PATH`), checked strictly.

    Its key is its folder's name (a lowercase slug that no featured project has). It must hold a
    `cookiecutter.json` with the common questions and exactly one `{{cookiecutter.project_slug}}`
    project folder, and no `hooks/` (mlstarter never runs hooks, so a template relying on them
    would silently make something else). Problems are usage errors naming the path.
    """
    try:
        folder = path.expanduser().resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise UsageError(f"--template {path}: not a usable path ({exc})") from None
    where = f"--template {path}"
    if not (folder / "cookiecutter.json").is_file():
        raise UsageError(f"{where}: not a cookiecutter template (no cookiecutter.json in it)")
    key = folder.name
    if not PRIVATE_KEY.fullmatch(key) or len(key) > 40:
        raise UsageError(
            f"{where}: its folder name '{key}' is its key in every record and class folder: "
            "lowercase letters and digits in dash-separated words, at most 40"
        )
    if key in catalog.keys:
        raise UsageError(
            f"{where}: '{key}' is the name of a featured project; rename the folder, so no record "
            "of yours can be mistaken for the public starter"
        )
    if (folder / "hooks").exists():
        raise UsageError(
            f"{where}: it has a hooks folder; mlstarter never runs template hooks, so remove it "
            "(and do in the template what the hooks did)"
        )
    projects = [p.name for p in folder.iterdir() if "{{" in p.name and p.is_dir()]
    if len(projects) != 1 or not PROJECT_FOLDER.fullmatch(projects[0]):
        raise UsageError(
            f"{where}: expected exactly one project folder named "
            f"'{{{{cookiecutter.project_slug}}}}' beside cookiecutter.json, found "
            f"{', '.join(projects) or 'none'}"
        )
    from mlstarter.answers import load_template

    try:
        load_template(folder)
    except CatalogError as exc:
        raise UsageError(str(exc)) from None
    return Project(
        key=key, title=f"{key} (private template)", tagline="an instructor's own template",
        upstream="(private)", domain="private", summary="", problem="", success_metric="",
        frameworks=(), hardware="cpu", install_size="", template=str(folder),
        template_dir=folder, origin="private",
    )  # fmt: skip


def with_private(catalog: Catalog, project: Project) -> Catalog:
    """The catalog a run with `--template` works from: that one template only."""
    return Catalog([project], catalog.path)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{hint} (known: {', '.join(known)})"


def load_catalog(root: Path | None = None) -> Catalog:
    """Read and validate the catalog; a malformed one names the file, the entry and the field."""
    import yaml  # here, not at import: `mlstarter --help` never reads the catalog

    root = root or templates_root()
    path = root / CATALOG_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        raise CatalogError(f"{path}:{line} is not valid YAML") from exc
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        raise CatalogError(f"{path}: expected a mapping with a 'projects' list")
    projects: list[Project] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["projects"], start=1):
        project = _parse_entry(path, root, index, entry)
        if project.key in seen:
            raise CatalogError(f"{path}: entry {index} ({project.key}): field 'key' is a duplicate")
        seen.add(project.key)
        projects.append(project)
    if not projects:
        raise CatalogError(f"{path}: the 'projects' list is empty")
    return Catalog(projects, path)


def _parse_entry(path: Path, root: Path, index: int, entry: object) -> Project:
    if not isinstance(entry, dict):
        raise CatalogError(f"{path}: entry {index}: expected a mapping of fields")
    name = entry.get("key") if isinstance(entry.get("key"), str) else f"#{index}"

    def fail(field: str, problem: str) -> CatalogError:
        return CatalogError(f"{path}: entry {index} ({name}): field '{field}' {problem}")

    for field in TEXT_FIELDS:
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            raise fail(field, "is missing or not a non-empty string")
    frameworks = entry.get("frameworks")
    if (
        not isinstance(frameworks, list)
        or not frameworks
        or not all(isinstance(f, str) and f for f in frameworks)
    ):
        raise fail("frameworks", "must be a non-empty list of names")
    if entry["hardware"] not in HARDWARE:
        raise fail("hardware", f"must be one of {', '.join(HARDWARE)}")
    if not entry["upstream"].startswith("https://"):
        raise fail("upstream", "must be an https:// URL")
    unknown = sorted(set(entry) - set(TEXT_FIELDS) - {"frameworks"})
    if unknown:
        raise fail(unknown[0], "is not a catalog field")
    template_dir = root / entry["template"]
    if not (template_dir / "cookiecutter.json").is_file():
        raise fail("template", f"names '{entry['template']}', which has no cookiecutter.json")
    fields = {f: entry[f].strip() for f in TEXT_FIELDS}
    return Project(**fields, frameworks=tuple(frameworks), template_dir=template_dir)
