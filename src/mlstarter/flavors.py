"""Flavors of one template: showcase, assignment and solution, from one source.

A template marks the core of a function, the part a student writes, with two comment lines:

    def tokenize(source):
        \"\"\"Turn Python source into tokens.\"\"\"
        # >>> assignment: walk tokenize.generate_tokens; drop COMMENT and NL tokens
        ...the real code...
        # <<< assignment

- showcase (the default): the markers are removed; the code is complete.
- solution: complete, markers kept so the instructor sees what students write.
- assignment: each marked region becomes `raise NotImplementedError("<hint>")`.

Tests under `tests/hidden/` are the instructor's: kept in showcase and solution repos, moved out of
assignment repos into a grader folder. Assignment repos also get a GitHub Classroom autograding
workflow that gives points per visible test file.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

from mlstarter.errors import TreeCheckError

FLAVORS = ("showcase", "assignment", "solution")
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# >>> assignment:\s*(?P<hint>.*?)\s*$")
END = re.compile(r"^[ \t]*# <<< assignment\s*$")
HIDDEN_TESTS = Path("tests") / "hidden"
POINTS = re.compile(r"^# points:\s*(\d+)\s*$", re.M)


@dataclass(frozen=True)
class FlavorResult:
    """What applying a flavor changed: regions replaced, hidden test files moved out."""

    regions: int
    hidden: list[str]


def apply_flavor(project: Path, flavor: str, grader: Path | None = None) -> FlavorResult:
    """Rewrite a rendered project in place for `flavor`; hidden tests go to `grader`."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}")
    regions = 0
    for path in sorted(project.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "# >>> assignment" not in text:
            continue
        new_text, count = transform(text, flavor, path.relative_to(project).as_posix())
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
        write_autograding(project)
    return FlavorResult(regions, hidden)


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
        result = _drop_unused_imports(result)
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


def _drop_unused_imports(source: str) -> str:
    """Remove the imports only the solution used, so the student repo still lints clean."""
    tree = ast.parse(source)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {
        n.value.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }
    exported = re.search(r"__all__", source) is not None
    drop: set[int] = set()
    for node in tree.body:
        if not isinstance(node, ast.Import | ast.ImportFrom) or exported:
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        names = [(a.asname or a.name).split(".")[0] for a in node.names]
        if not any(name in used for name in names):
            drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    if not drop:
        return source
    lines = source.splitlines(keepends=True)
    kept = "".join(line for n, line in enumerate(lines, start=1) if n not in drop)
    # an import dropped alone in its isort section would leave its blank separator behind
    return re.sub(r"\n{4,}", "\n\n\n", kept)


def write_autograding(project: Path) -> None:
    """GitHub Classroom autograding: one graded test per visible test file, with its points.

    A file's points are its `# points: N` line, else one per test function in it.
    """
    tests = sorted((project / "tests").glob("test_*.py"))
    entries = []
    for path in tests:
        text = path.read_text(encoding="utf-8")
        declared = POINTS.search(text)
        points = (
            int(declared.group(1))
            if declared
            else max(1, len(re.findall(r"^def test_", text, re.M)))
        )
        name = path.stem.removeprefix("test_").replace("_", " ")
        entries.append({
            "name": name,
            "setup": "",
            "run": f"python -m pytest -q tests/{path.name}",
            "input": "",
            "output": "",
            "comparison": "included",
            "timeout": 10,
            "points": points,
        })  # fmt: skip
    classroom = project / ".github" / "classroom"
    classroom.mkdir(parents=True, exist_ok=True)
    (classroom / "autograding.json").write_text(
        json.dumps({"tests": entries}, indent=2) + "\n", encoding="utf-8"
    )
    workflow = project / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(_classroom_workflow(entries), encoding="utf-8")


def _classroom_workflow(entries: list[dict[str, object]]) -> str:
    steps = []
    ids = []
    for n, entry in enumerate(entries, start=1):
        step_id = f"test-{n}"
        ids.append(step_id)
        steps.append(
            f"      - name: {entry['name']}\n"
            f"        id: {step_id}\n"
            "        uses: classroom-resources/autograding-command-grader@v1\n"
            "        with:\n"
            f"          test-name: {json.dumps(entry['name'])}\n"
            f"          command: {json.dumps(entry['run'])}\n"
            "          timeout: 10\n"
            f"          max-score: {entry['points']}\n"
        )
    results = "\n".join(
        f'          {sid.upper().replace("-", "")}_RESULTS: "${{{{ steps.{sid}.outputs.result }}}}"'
        for sid in ids
    )
    runners = ",".join(ids)
    return (
        "name: Autograding\n\n"
        "on:\n  push:\n  workflow_dispatch:\n\n"
        "permissions:\n  checks: write\n  actions: read\n  contents: read\n\n"
        "jobs:\n"
        "  autograding:\n"
        "    runs-on: ubuntu-latest\n"
        "    timeout-minutes: 30\n"
        "    env:\n"
        "      PIP_EXTRA_INDEX_URL: https://download.pytorch.org/whl/cpu\n"
        '      HF_HUB_OFFLINE: "1"\n'
        "    steps:\n"
        "      - uses: actions/checkout@v6\n"
        "      - uses: actions/setup-python@v6\n"
        "        with:\n"
        '          python-version: "3.11"\n'
        "      - name: Install\n"
        "        run: make setup\n" + "".join(steps) + "      - name: Report\n"
        "        uses: classroom-resources/autograding-grading-reporter@v1\n"
        "        env:\n"
        f"{results}\n"
        "        with:\n"
        f"          runners: {runners}\n"
    )


def check_flavor_markers(project: Path) -> int:
    """Count the marked regions in a rendered tree; raise on an unbalanced marker."""
    total = 0
    for path in sorted(project.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "# >>> assignment" in text or "# <<< assignment" in text:
            total += transform(text, "solution", path.relative_to(project).as_posix())[1]
    return total
