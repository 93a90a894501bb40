"""A template's questions, the validation of every answer, their precedence, and the answers file.

Answers are validated before anything is rendered. Free text reaches the files literally: mlstarter
renders only the template's own defaults, never a value the user typed (cookiecutter would render
`{{ 7*7 }}` into `49`).
"""

from __future__ import annotations

import difflib
import json
import keyword
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlstarter import __version__
from mlstarter.errors import AnswerError, CatalogError, UsageError
from mlstarter.reserved import reserved_names, shadows
from mlstarter.sanitize import UNSAFE_CHARS
from mlstarter.userfiles import MAX_ANSWERS_BYTES, load_data_file

RECORD_FILE = ".mlstarter.yml"
LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "none")
COMMON_QUESTIONS = (
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "github_username",
    "license",
    "copyright_year",
)


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    says: str


RULES = {
    "project_slug": Rule(
        re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"),
        "must be lowercase letters and digits in dash-separated words, starting with a letter "
        "(like 'my-project')",
    ),
    "package_name": Rule(
        re.compile(r"[a-z][a-z0-9_]*"),
        "must be a lowercase Python identifier starting with a letter (like 'my_project')",
    ),
    "author_email": Rule(
        re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+"), "must be an email address"
    ),
    "github_username": Rule(
        re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"),
        "must be a GitHub user name (letters, digits, single dashes, at most 39)",
    ),
    "copyright_year": Rule(re.compile(r"(?:19|20|21)\d\d"), "must be a four-digit year"),
    "seed": Rule(re.compile(r"\d{1,6}"), "must be a whole number from 0 to 999999"),
}
MAX_TEXT = 300
MAX_NAME = 64


@dataclass(frozen=True)
class Question:
    """One question of a template: its name, raw default, choices and help text."""

    name: str
    default: object
    help: str
    choices: tuple[str, ...] = ()

    @property
    def is_bool(self) -> bool:
        return isinstance(self.default, bool)


@dataclass
class TemplateSpec:
    """What a template asks, and the private settings cookiecutter needs to render it."""

    path: Path
    questions: list[Question]
    private: dict[str, object] = field(default_factory=dict)
    # names project_slug and package_name must not take (normalized name -> what it would shadow)
    reserved: dict[str, str] = field(default_factory=dict, repr=False)
    # Jinja templates of the rendered defaults (and their environment under ""), built once
    compiled_defaults: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def origin(self) -> str:
        """'bundled' (one of mlstarter's templates) or 'private' (an instructor's own)."""
        from mlstarter.catalog import templates_root

        try:
            inside = self.path.resolve().is_relative_to(templates_root().resolve())
        except OSError:
            inside = False
        return "bundled" if inside else "private"

    @property
    def version(self) -> str:
        return str(self.private.get("_template_version", "0"))

    @property
    def names(self) -> list[str]:
        return [q.name for q in self.questions]

    def question(self, name: str) -> Question:
        return next(q for q in self.questions if q.name == name)


def load_template(path: Path) -> TemplateSpec:
    """Read a template's `cookiecutter.json` into questions, in the order the template asks them."""
    file = path / "cookiecutter.json"
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{file}: cannot read the template's questions ({exc})") from exc
    prompts = raw.get("__prompts__", {})
    questions: list[Question] = []
    private: dict[str, object] = {}
    for name, default in raw.items():
        if name.startswith("_"):
            private[name] = default
            continue
        help_text = prompts.get(name, name.replace("_", " ").capitalize())
        if isinstance(help_text, dict):  # cookiecutter's per-choice prompt form
            help_text = help_text.get("__prompt__", name)
        if isinstance(default, list):
            if not default or not all(isinstance(c, str) for c in default):
                raise CatalogError(f"{file}: question '{name}' must list its choices as strings")
            questions.append(Question(name, default[0], str(help_text), tuple(default)))
        elif isinstance(default, str | bool):
            questions.append(Question(name, default, str(help_text)))
        else:
            raise CatalogError(f"{file}: question '{name}' has an unsupported default {default!r}")
    missing = [n for n in COMMON_QUESTIONS if n not in {q.name for q in questions}]
    if missing:
        raise CatalogError(f"{file}: the template does not ask {', '.join(missing)}")
    return TemplateSpec(path, questions, private, reserved_names(path))


def check_value(question: Question, value: object) -> object:
    """The value in its stored form, or an AnswerError saying what is wrong with it."""
    name = question.name
    if question.is_bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"y", "yes", "true", "1", "on"}:
            return True
        if text in {"n", "no", "false", "0", "off"}:
            return False
        shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "..."
        raise AnswerError(f"{name}: '{shown}' is not yes or no")
    if not isinstance(value, str):
        # answers files and rosters keep text as text, so anything else is a typed value
        raise AnswerError(f"{name}: expected text, got {type(value).__name__}")
    text = value
    if len(text) > MAX_TEXT:
        raise AnswerError(f"{name}: at most {MAX_TEXT} characters")
    if question.choices:
        if text not in question.choices:
            allowed = ", ".join(question.choices)
            raise AnswerError(f"{name}: '{text}' is not one of the allowed values: {allowed}")
        return text
    if UNSAFE_CHARS.search(text):
        raise AnswerError(
            f"{name}: must be a single line of text without control, bidi or invisible "
            "characters (or bytes that are not UTF-8)"
        )
    if name == "project_name" and not text.strip():
        raise AnswerError("project_name: must not be empty")
    rule = RULES.get(name)
    if rule and not rule.pattern.fullmatch(text):
        raise AnswerError(f"{name}: '{text}' {rule.says}")
    if name in {"project_slug", "package_name"} and len(text) > MAX_NAME:
        raise AnswerError(f"{name}: at most {MAX_NAME} characters")
    if name == "package_name" and (keyword.iskeyword(text) or text in sys.stdlib_module_names):
        raise AnswerError(f"package_name: '{text}' would shadow Python's own '{text}'")
    return text


def check_answer(spec: TemplateSpec, question: Question, value: object) -> object:
    """`check_value`, and for the slug and the package name: nothing in the venv is shadowed."""
    checked = check_value(question, value)
    if question.name in {"project_slug", "package_name"}:
        shadowed = shadows(str(checked), spec.reserved)
        if shadowed is not None:
            raise AnswerError(f"{question.name}: '{checked}' would shadow {shadowed}")
    return checked


def check_names(spec: TemplateSpec, given: Mapping[str, object], source: str) -> None:
    """Every given name is a question of the template; a typo names the closest question."""
    for name in given:
        if name not in spec.names:
            close = difflib.get_close_matches(name, spec.names, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise AnswerError(f"{source}: unknown answer '{name}'{hint}")


Asker = Callable[[Question, object], object]


def resolve_answers(
    spec: TemplateSpec, given: Mapping[str, object], ask: Asker | None = None
) -> dict[str, object]:
    """All answers, in question order: given values (literal), else the template default.

    With `ask`, every question is put to the user with that value as its default; `ask` returns
    a value that passed `check_value` (it re-asks on its own). Defaults are rendered with the
    answers before them, so `project_slug` follows `project_name`.
    """
    check_names(spec, given, "answers")
    checked = {name: check_answer(spec, spec.question(name), v) for name, v in given.items()}
    answers: dict[str, object] = {}
    for question in spec.questions:
        if question.name in checked:
            value = checked[question.name]
        else:
            value = _render_default(spec, question, answers)
        if ask is not None:
            value = ask(question, value)
        try:
            answers[question.name] = check_answer(spec, question, value)
        except AnswerError as exc:
            if question.name in checked or ask is not None:
                raise
            raise AnswerError(
                f"{exc} (derived from the answers before it; set it with --set {question.name}=...)"
            ) from None
    return answers


def _render_default(spec: TemplateSpec, question: Question, answers: dict[str, object]) -> object:
    if not isinstance(question.default, str) or "{" not in question.default:
        return question.default
    # cookiecutter's environment, for its slugify and now extensions (imported here, not at start).
    from cookiecutter.environment import StrictEnvironment

    compiled = spec.compiled_defaults
    if question.name not in compiled:
        # one environment a template: it depends only on the template's private settings
        env = compiled.setdefault("", StrictEnvironment(context={"cookiecutter": spec.private}))
        compiled[question.name] = env.from_string(question.default)
    return compiled[question.name].render(cookiecutter={**spec.private, **answers})


def parse_set_options(items: list[str]) -> dict[str, str]:
    """`--set NAME=VALUE` options as a mapping; the last one wins for a repeated name."""
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set '{item}': expected NAME=VALUE")
        pairs[name.strip()] = value
    return pairs


def read_answers_file(path: Path, template_key: str) -> dict[str, object]:
    """Answers from a YAML or JSON file: a plain mapping, or a `.mlstarter.yml` record."""
    return read_answers_and_flavor(path, template_key)[0]


def read_answers_and_flavor(path: Path, template_key: str) -> tuple[dict[str, object], str | None]:
    """The answers of a file, and the flavor it records (a `.mlstarter.yml` does; None if not).

    Values are read as written: YAML scalars stay text, JSON numbers too.
    """
    data = load_data_file(path, MAX_ANSWERS_BYTES, "--answers")
    flavor = None
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        made_for = data.get("template")
        if made_for and made_for != template_key:
            raise AnswerError(
                f"--answers {path}: it records template '{made_for}', not '{template_key}'"
            )
        flavor = data.get("flavor")
        if flavor is not None and not isinstance(flavor, str):
            raise UsageError(f"--answers {path}: its 'flavor' must be a name")
        data = data["answers"]
    if not isinstance(data, dict):
        raise UsageError(f"--answers {path}: expected a mapping of NAME: VALUE")
    return {str(k): ("" if v is None else v) for k, v in data.items()}, flavor


def render_record(
    template_key: str,
    spec: TemplateSpec,
    answers: Mapping[str, object],
    flavor: str = "showcase",
    files: Mapping[str, str] | None = None,
) -> str:
    """The text of `.mlstarter.yml`: how the repo was made, enough to make it again.

    `files` (path: sha256 of what the template generated) lets `mlstarter update` tell the files
    the user never touched from the ones they changed.
    """
    private = spec.origin == "private"
    key = "--template <the template folder>" if private else template_key
    again = f"mlstarter new {key} --answers {RECORD_FILE} --no-input"
    if flavor != "showcase":
        again += f" --flavor {flavor}"
    header = (
        f"# How this repository was generated. Make it again, byte for byte, with:\n#   {again}\n"
    )
    if private:  # the folder's path stays with the instructor: it is not the student's business
        header = (
            f"# Generated from '{template_key}', a private template of your instructor's (not "
            f"part of mlstarter). With that template:\n#   {again}\n"
        )
    record: dict[str, object] = {
        "mlstarter_version": __version__,
        "template": template_key,
        "template_version": spec.version,
    }
    if private:
        record["template_origin"] = "private"
    record.update(flavor=flavor, answers=dict(answers))
    if files is not None:
        record["files"] = dict(sorted(files.items()))
    return header + yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=1000)


def same_origin(record_text: str | None, other_text: str) -> bool:
    """Whether two records say the same template, version, flavor and answers (file hashes and
    comments aside)."""
    if record_text is None:
        return False
    try:
        one, two = yaml.safe_load(record_text), yaml.safe_load(other_text)
    except yaml.YAMLError:
        return False
    if not isinstance(one, dict) or not isinstance(two, dict):
        return False
    one.pop("files", None)
    two.pop("files", None)
    return bool(one == two)
