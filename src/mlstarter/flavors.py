"""Flavors of one template: showcase, assignment and solution, from one source.

A template marks the core of a function, the part a student writes, with two comment lines:

    def tokenize(source):
        \"\"\"Turn Python source into tokens.\"\"\"
        # >>> assignment: walk tokenize.generate_tokens; drop COMMENT and NL tokens
        ...the real code...
        # <<< assignment

- showcase (the default): the markers are removed; the code is complete.
- solution: complete, markers kept so the instructor sees what students write.
- assignment: each marked region becomes `raise NotImplementedError("<hint>")`; the imports only
  a region used stay (marked `# noqa: F401`), so the student has what the solution had.

Tests under `tests/hidden/` are the instructor's: kept in showcase and solution repos, moved out of
assignment repos into a grader folder. An assignment's README gets a "Your assignment" section
(every TODO: file, function, hint; how the work is graded) and loses every line that names
`tests/hidden`; its GitHub Classroom autograding workflow gives feedback points only to the
visible tests that exercise a marked region, and none to a skipped test (`classroom_runner.py`).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mlstarter.errors import TreeCheckError, UsageError

FLAVORS = ("showcase", "assignment", "solution")
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# >>> assignment:\s*(?P<hint>.*?)\s*$")
END = re.compile(r"^[ \t]*# <<< assignment\s*$")
HIDDEN_TESTS = Path("tests") / "hidden"
KEPT_IMPORT = "  # noqa: F401 (the TODO needs it)"
ASSIGNMENT_HEADING = "## Your assignment"


@dataclass(frozen=True)
class Todo:
    """One marked region: where it is and what the student is asked to write."""

    file: str
    function: str
    hint: str
    line: int


@dataclass(frozen=True)
class FlavorResult:
    """What applying a flavor changed: regions replaced, hidden test files moved out."""

    regions: int
    hidden: list[str]
    todos: list[Todo] = field(default_factory=list)

    @property
    def region_files(self) -> list[str]:
        """The files that hold a marked region (the student's files in an assignment)."""
        return sorted({todo.file for todo in self.todos})


def check_flavor(flavor: str) -> str:
    """The flavor, or a usage error listing the allowed ones."""
    if flavor not in FLAVORS:
        raise UsageError(f"--flavor '{flavor}': choose one of {', '.join(FLAVORS)}")
    return flavor


def apply_flavor(project: Path, flavor: str, grader: Path | None = None) -> FlavorResult:
    """Rewrite a rendered project in place for `flavor`; hidden tests go to `grader`."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}")
    regions = 0
    todos: list[Todo] = []
    for path in sorted(project.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(project).as_posix()
        if "# >>> assignment" not in text:
            continue
        todos += find_todos(text, relative)
        new_text, count = transform(text, flavor, relative)
        regions += count
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
    hidden: list[str] = []
    hidden_dir = project / HIDDEN_TESTS
    if flavor == "assignment" and hidden_dir.is_dir():
        hidden = sorted(
            p.relative_to(project).as_posix() for p in hidden_dir.rglob("*") if p.is_file()
        )
        if grader is not None:
            shutil.copytree(hidden_dir, grader / HIDDEN_TESTS, dirs_exist_ok=True)
        shutil.rmtree(hidden_dir)
    if flavor == "assignment":
        write_assignment_readme(project, todos)
        write_autograding(project, todos)
    return FlavorResult(regions, hidden, todos)


def find_todos(text: str, where: str = "<file>") -> list[Todo]:
    """The marked regions of one (solution) file, each with the function that holds it."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        tree = None
    todos = []
    for number, line in enumerate(text.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin:
            function = _enclosing(tree, number) if tree is not None else ""
            todos.append(Todo(where, function or "(module level)", begin["hint"], number))
    return todos


def _enclosing(tree: ast.AST, line: int) -> str:
    """The qualified name (`Class.method`, as `__qualname__`) of the innermost function around
    `line`."""
    names: list[str] = []

    def visit(node: ast.AST, path: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, path)
                continue
            if child.lineno <= line <= (child.end_lineno or child.lineno):
                inner = [*path, child.name]
                if isinstance(child, ast.ClassDef):
                    visit(child, inner)
                else:
                    names[:] = inner
                    visit(child, [*inner, "<locals>"])

    visit(tree, [])
    return ".".join(names)


def transform(text: str, flavor: str, where: str = "<file>") -> tuple[str, int]:
    """The text of one file in `flavor`, and how many marked regions it had."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    count = 0
    i = 0
    while i < len(lines):
        begin = BEGIN.match(lines[i])
        if not begin:
            if END.match(lines[i]):
                raise TreeCheckError(f"{where}:{i + 1}: '# <<< assignment' without its begin")
            out.append(lines[i])
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if END.match(lines[j])), None)
        if end is None:
            raise TreeCheckError(f"{where}:{i + 1}: '# >>> assignment' without its end")
        count += 1
        body = lines[i + 1 : end]
        if flavor == "solution":
            out.extend(lines[i : end + 1])
        elif flavor == "showcase":
            out.extend(body)
        else:
            out.append(_raise_todo(begin["indent"], begin["hint"] or "write this part"))
        i = end + 1
    result = "".join(out)
    if flavor == "assignment" and count:
        result = _keep_region_imports(result)
    return result, count


def _raise_todo(indent: str, hint: str, width: int = 100) -> str:
    """`raise NotImplementedError("TODO: hint")`, wrapped to stay within `width` columns."""
    text = f"TODO: {hint}"
    line = f"{indent}raise NotImplementedError({json.dumps(text)})"
    if len(line) <= width:
        return line + "\n"
    room = max(20, width - len(indent) - 4 - 12)  # quotes and escapes need a little margin
    pieces = textwrap.wrap(text, room, drop_whitespace=False, break_long_words=True)
    body = "".join(f"{indent}    {json.dumps(piece)}\n" for piece in pieces)
    return f"{indent}raise NotImplementedError(\n{body}{indent})\n"


def _keep_region_imports(source: str) -> str:
    """Mark the imports only the removed regions used, so the student keeps them and the file
    still lints clean (`# noqa: F401` on the line of each such name)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source  # not Python the tools could lint either; the tree check reports it
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            used |= {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)
                     and isinstance(c.value, str)}  # fmt: skip
    marked: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        for alias in node.names:
            name = (alias.asname or alias.name).split(".")[0]
            if name != "*" and name not in used:
                marked.add(getattr(alias, "lineno", node.lineno))
    if not marked:
        return source
    lines = source.splitlines(keepends=True)
    for number in sorted(marked):
        line = lines[number - 1]
        if "noqa" in line:
            continue
        body = line.rstrip("\r\n")
        lines[number - 1] = body + KEPT_IMPORT + line[len(body) :]
    return "".join(lines)


def write_assignment_readme(project: Path, todos: list[Todo]) -> None:
    """Add "Your assignment" to the README (every TODO and how the work is graded), and drop the
    lines that name `tests/hidden`: the student does not have it."""
    readme = project / "README.md"
    if not readme.is_file():
        return
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [line for line in lines if "tests/hidden" not in line]
    section = assignment_section(todos, has_rule(project, "test"), has_smoke(project))
    at = next((n for n, line in enumerate(lines) if line.startswith("## ")), len(lines))
    if at == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines[at:at] = [section, "\n"] if at < len(lines) else ["\n", section]
    readme.write_text("".join(lines), encoding="utf-8")


def has_rule(project: Path, rule: str) -> bool:
    """Whether the project's Makefile has `rule` (a private template may have no Makefile)."""
    makefile = project / "Makefile"
    text = makefile.read_text(encoding="utf-8") if makefile.is_file() else ""
    return re.search(rf"^{re.escape(rule)}\s*:", text, re.MULTILINE) is not None


def has_smoke(project: Path) -> bool:
    """Whether the package runs as `python -m <package>` (the smoke; optional in a private
    template)."""
    return any((project / "src").glob("*/__main__.py"))


def assignment_section(todos: list[Todo], make: bool = True, smoke: bool = True) -> str:
    """The README section of an assignment: what to write, how to check it, how it is graded.
    `make`: the Makefile has `test` (and `smoke`); `smoke`: the package has one."""
    package = todos[0].file.split("/")[1] if todos and todos[0].file.count("/") > 1 else "PACKAGE"
    check = "`make test`" if make else "`python -m pytest`"
    smoke_command = "`make smoke`" if make else f"`python -m {package} smoke`"
    rows = "".join(
        f"| `{_cell(todo.file)}` | `{_cell(todo.function)}` | {_cell(todo.hint)} |\n"
        for todo in todos
    )
    files = sorted({todo.file for todo in todos})
    return (
        f"{ASSIGNMENT_HEADING}\n\n"
        f"This repository is an assignment: {len(todos)} "
        f"{'piece of its core is' if len(todos) == 1 else 'pieces of its core are'} left for "
        "you to write. "
        "Each raises `NotImplementedError` with a hint until you replace the `raise` with your "
        "code; keep the function's signature and docstring.\n\n"
        "| file | function | what to write |\n|---|---|---|\n"
        f"{rows}\n"
        f"Check your work with {check} as you go."
        + (
            f" {smoke_command} (the whole pipeline{', below' if make else ''}) passes once every "
            "TODO above is done; until then it stops at the first one.\n\n"
            if smoke
            else "\n\n"
        )
        + "**How it is graded.** Your instructor runs `mlstarter grade` on the code you commit "
        "(the last commit, not uncommitted files): the tests you see in `tests/`, exactly as "
        "the starter has them (your edits to tests, `conftest.py` or the pytest settings do not "
        "apply), and more tests of the same functions that you do not see. Each test case is "
        "worth points (one each unless your instructor says otherwise); a test that is skipped "
        "scores nothing, and tests that pass without any of your work carry no points. Only the "
        f"files with TODOs ({', '.join(f'`{_cell(f)}`' for f in files)}) and new files you add "
        "to the package are taken from your repository: changes to its other files are not "
        "graded. "
        + (
            "Your smoke run is also run on one seed common to the whole class, for a leaderboard. "
            if smoke
            else ""
        )
        + "The points GitHub Classroom shows on each push are feedback from the "
        "visible tests only: the grade is `mlstarter grade`'s.\n"
    )


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, no column break, no code-span break."""
    return " ".join(text.split()).replace("|", "\\|").replace("`", "'")


CLASSROOM_RUNNER_PATH = ".github/classroom/graded_tests.py"
POINTS = re.compile(r"^# points:\s*(\d+)\s*$", re.M)


def write_autograding(project: Path, todos: list[Todo]) -> None:
    """GitHub Classroom autograding: feedback points for the visible tests that exercise a TODO.

    `autograding.json` holds the TODOs and each visible test file's points (its `# points: N`
    line; without one, a point for each test of it that counts). The workflow runs
    `graded_tests.py` once: a test that passes without calling a function with a TODO (in the
    test process or a Python process it starts, its fixtures included) carries no points; one
    that fails or skips scores nothing; a file's points are shared by its tests that count.
    """
    entries = []
    for path in sorted((project / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        declared = POINTS.search(text)
        entries.append({
            "name": path.stem.removeprefix("test_").replace("_", " "),
            "file": f"tests/{path.name}",
            "run": f"python -m pytest -q tests/{path.name}",
            "points": int(declared.group(1)) if declared else None,
        })  # fmt: skip
    config = {
        "about": "Feedback points (GitHub Classroom); the grade is `mlstarter grade`'s.",
        "todos": [{"file": t.file, "function": t.function} for t in todos],
        "tests": entries,
    }
    classroom = project / ".github" / "classroom"
    classroom.mkdir(parents=True, exist_ok=True)
    (classroom / "autograding.json").write_text(json.dumps(config, indent=2) + "\n", "utf-8")
    runner = resources.files("mlstarter").joinpath("classroom_runner.py")
    (project / CLASSROOM_RUNNER_PATH).write_text(runner.read_text("utf-8"), encoding="utf-8")
    workflow = project / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(classroom_workflow(), encoding="utf-8")


CLASSROOM_WORKFLOW = "classroom.yml"  # in templates/_shared, beside the CI workflow


def classroom_workflow() -> str:
    """The Classroom workflow of an assignment: `templates/_shared/classroom.yml`, rendered with
    Jinja as a template's `ci.yml` is (it takes no variables; `${{` sits in `{% raw %}`)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from mlstarter.catalog import bundled_root

    env = Environment(
        loader=FileSystemLoader(bundled_root() / "_shared"),
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        autoescape=False,
    )
    return env.get_template(CLASSROOM_WORKFLOW).render()


def check_flavor_markers(project: Path) -> int:
    """Count the marked regions in a rendered tree; raise on an unbalanced marker."""
    total = 0
    for path in sorted(project.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "# >>> assignment" in text or "# <<< assignment" in text:
            total += transform(text, "solution", path.relative_to(project).as_posix())[1]
    return total
