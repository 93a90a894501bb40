"""The command line: flags in, exit codes out. The only module that prints.

Human output goes to stderr; `--json` puts exactly one JSON object on stdout. Errors are one line,
with the traceback only under `--verbose`. cookiecutter and jinja2 are imported only by the commands
that generate, so `--help`, `list` and `info` start fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from mlstarter import __version__
from mlstarter.catalog import HARDWARE, Catalog, Project, load_catalog
from mlstarter.errors import MissingAnswerError, MlstarterError, UsageError

app = typer.Typer(
    name="mlstarter",
    help="Generate a ready-to-run starter repo for one of the featured ML projects.",
    epilog="Examples: mlstarter list | mlstarter info transformers | "
    "mlstarter new python-autocomplete --no-input -o ~/code",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")]


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _emit_json(payload: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def _reported(as_json: bool, verbose: bool) -> Iterator[None]:
    """Turn errors into one line on stderr and the contract's exit code."""
    try:
        yield
    except MlstarterError as exc:
        _fail(str(exc), exc.exit_code, as_json, verbose)
    except KeyboardInterrupt:
        _fail("interrupted; nothing was written", 130, as_json, verbose)
    except EOFError:
        _fail("input ended before every question was answered; nothing was written "
              "(use --no-input with --set or --answers)", 4, as_json, verbose)  # fmt: skip
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # a bug: say so, briefly, unless asked for the traceback
        _fail(f"internal error: {type(exc).__name__}: {exc}", 1, as_json, verbose)


def _fail(message: str, code: int, as_json: bool, verbose: bool) -> None:
    if verbose:
        traceback.print_exc(file=sys.stderr)
    sys.stderr.write(f"error: {message}\n")
    if not verbose and code == 1:
        sys.stderr.write("(run again with --verbose for the traceback)\n")
    if as_json:
        _emit_json({"ok": False, "error": message, "exit_code": code})
    raise typer.Exit(code)


def stdin_is_terminal() -> bool:
    """Whether questions can be asked (tests replace this to drive the prompts)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"mlstarter {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Generate a ready-to-run starter repo for one of the featured ML projects."""


@app.command("list")
def list_projects(
    domain: Annotated[str | None, typer.Option(help="Only projects of this domain.")] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Table of the featured projects: key, title, domain, hardware."""
    with _reported(as_json, verbose):
        catalog = load_catalog()
        projects = catalog.projects
        if domain is not None:
            if domain not in catalog.domains:
                raise UsageError(f"unknown domain '{domain}' (known: {', '.join(catalog.domains)})")
            projects = [p for p in projects if p.domain == domain]
        if as_json:
            _emit_json({"projects": [p.card() for p in projects]})
            return
        _stderr().print(_project_table(projects))


def _project_table(projects: list[Project], numbered: bool = False) -> Any:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    if numbered:
        table.add_column("#", justify="right")
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("title")
    if numbered:
        table.add_column("what you build")
    else:
        table.add_column("domain")
        table.add_column("hardware")
    for n, p in enumerate(projects, start=1):
        if numbered:
            table.add_row(str(n), p.key, p.title, p.tagline)
        else:
            table.add_row(p.key, p.title, p.domain, HARDWARE[p.hardware])
    return table


@app.command()
def info(
    key: Annotated[str, typer.Argument(help="Project key, as `mlstarter list` shows it.")],
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """The full card of one project: summary, problem, success metric, frameworks, size, link."""
    with _reported(as_json, verbose):
        from mlstarter.answers import load_template

        project = load_catalog().get(key)
        spec = load_template(project.template_dir)
        questions = [
            {"name": q.name, "default": q.default, "choices": list(q.choices), "help": q.help}
            for q in spec.questions
        ]
        if as_json:
            _emit_json({**project.card(), "template_version": spec.version, "questions": questions})
            return
        console = _stderr()
        console.print(f"[bold]{project.title}[/bold]  ([cyan]{project.key}[/cyan])")
        console.print(project.tagline + "\n")
        rows = [
            ("summary", project.summary),
            ("problem", project.problem),
            ("success metric", project.success_metric),
            ("frameworks", ", ".join(project.frameworks)),
            ("hardware", HARDWARE[project.hardware]),
            ("install size", project.install_size),
            ("upstream", project.upstream),
            ("questions", ", ".join(q["name"] for q in questions)),
        ]
        from rich.table import Table

        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for label, text in rows:
            table.add_row(label, text)
        console.print(table)
        console.print(f"\nStart it: mlstarter new {project.key}")


@app.command()
def new(
    key: Annotated[
        str | None, typer.Argument(help="Project key; on a terminal, omit it to pick from a menu.")
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Folder to create the repo in.")
    ] = Path("."),
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Ask nothing: defaults, --answers and --set.")
    ] = False,
    set_values: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="Answer one question (repeatable)."),
    ] = None,
    answers_file: Annotated[
        Path | None,
        typer.Option("--answers", metavar="FILE", help="Answers from YAML/JSON or .mlstarter.yml."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the files that would be written; write none.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Move an existing target to a timestamped backup first.")
    ] = False,
    git: Annotated[
        bool, typer.Option("--git/--no-git", help="Make it a git repo with one initial commit.")
    ] = False,
    flavor: Annotated[
        str | None,
        typer.Option(
            "--flavor",
            help="showcase (complete, the default), assignment (core bodies left to write), "
            "or solution (complete, regions marked).",
        ),
    ] = None,
    verify_after: Annotated[
        bool, typer.Option("--verify", help="Run `mlstarter verify` on the new repo.")
    ] = False,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Generate a starter repo from a featured project's template."""
    with _reported(as_json, verbose):
        from mlstarter import answers as answers_mod
        from mlstarter import generate

        interactive = not no_input
        if interactive and not stdin_is_terminal():
            raise MissingAnswerError(
                "stdin is not a terminal, so nothing can be asked: add --no-input "
                "(answers then come from --answers, --set and the template defaults)"
            )
        catalog = load_catalog()
        if key is None:
            if not interactive:
                raise MissingAnswerError(f"no project given: name one of {', '.join(catalog.keys)}")
            key = _ask_project(catalog)
        project = catalog.get(key)
        spec = answers_mod.load_template(project.template_dir)
        given: dict[str, object] = {}
        recorded_flavor = None
        if answers_file is not None:
            from_file, recorded_flavor = answers_mod.read_answers_and_flavor(
                answers_file, project.key
            )
            answers_mod.check_names(spec, from_file, f"--answers {answers_file}")
            given.update(from_file)
        from_set = answers_mod.parse_set_options(set_values or [])
        answers_mod.check_names(spec, from_set, "--set")
        given.update(from_set)
        flavor = check_flavor(flavor or recorded_flavor or "showcase")
        ask = _ask_question if interactive else None
        answers = answers_mod.resolve_answers(spec, given, ask)
        slug = str(answers["project_slug"])
        out = output_dir.expanduser().resolve()
        payload: dict[str, object] = {
            "ok": True,
            "project": project.key,
            "template_version": spec.version,
            "flavor": flavor,
            "path": str(out / slug),
            "answers": answers,
        }
        if dry_run:
            generate.refuse_existing(out / slug, force)
            state = generate.target_state(out, slug)
            files = generate.preview(project.key, spec, answers, flavor)
            payload.update(dry_run=True, files=files, target=state)
            if as_json:
                _emit_json(payload)
            else:
                _print_dry_run(out / slug, files, state)
            return
        grader = out / f"{slug}-grader" if flavor == "assignment" else None
        result = generate.bake(
            project.key, spec, answers, out, force=force, git=git, flavor=flavor, grader=grader
        )
        payload.update(
            dry_run=False,
            files=len(result.files),
            backup=str(result.backup) if result.backup else None,
            git_commit=result.git_commit,
        )
        if not as_json:
            _print_created(project, result, answers)
        if verify_after:
            report = _run_verify(result.path, None, as_json)
            payload["verify"] = report.as_dict()
            if not report.ok:
                if as_json:
                    _emit_json({**payload, "ok": False, "exit_code": 7})
                raise typer.Exit(7)
        if as_json:
            _emit_json(payload)


@app.command()
def batch(
    roster: Annotated[Path, typer.Argument(help="CSV (with a header) or YAML list of students.")],
    project: Annotated[
        str | None, typer.Option("--project", help="Project for rows without a 'project' column.")
    ] = None,
    flavor: Annotated[
        str, typer.Option("--flavor", help="showcase, assignment or solution.")
    ] = "showcase",
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Folder for the repos and the summary.")
    ] = Path("."),
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Rows baked at once.")] = (
        min(4, os.cpu_count() or 1)
    ),
    set_values: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="Answer for every row (repeatable)."),
    ] = None,
    answers_file: Annotated[
        Path | None, typer.Option("--answers", metavar="FILE", help="Answers for every row.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Regenerate existing repos (old ones to backups).")
    ] = False,
    git: Annotated[
        bool, typer.Option("--git/--no-git", help="Make each repo a git repo, one commit.")
    ] = False,
    remote: Annotated[
        str | None,
        typer.Option(
            "--remote",
            metavar="URL",
            help="Push each repo to URL; {student_id} is replaced. Implies --git.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """One repo per roster row, in parallel, each atomic; a summary of every row."""
    with _reported(as_json, verbose):
        from mlstarter import answers as answers_mod
        from mlstarter import batch as batch_mod

        check_flavor(flavor)
        if remote is not None:
            if "{student_id}" not in remote:
                raise UsageError(
                    "--remote must contain {student_id}, or every repo goes to one URL"
                )
            git = True
        catalog = load_catalog()
        if project is not None:
            catalog.get(project)
        rows = batch_mod.read_roster(roster)
        base, _ = batch_mod.base_answers(
            answers_file, answers_mod.parse_set_options(set_values or []), project
        )
        out = output_dir.expanduser().resolve()
        planned, failed = batch_mod.plan_rows(
            rows, catalog, out, project, base, flavor, force, git, remote
        )
        out.mkdir(parents=True, exist_ok=True)
        outcomes = list(failed)
        for outcome in failed:
            sys.stderr.write(f"line {outcome.line}: {outcome.reason}\n")
        outcomes += _run_batch_with_progress(batch_mod, planned, jobs)
        outcomes.sort(key=lambda o: o.line)
        json_path, csv_path = batch_mod.write_summary(out, outcomes)
        bad = [o for o in outcomes if o.status == "failed"]
        counts = {s: sum(o.status == s for o in outcomes) for s in
                  ("generated", "regenerated", "skipped", "failed")}  # fmt: skip
        if as_json:
            _emit_json({
                "ok": not bad, "counts": counts, "summary": str(json_path),
                "rows": [vars(o) for o in outcomes],
                **({"exit_code": bad[0].exit_code} if bad else {}),
            })  # fmt: skip
        else:
            _print_batch_summary(outcomes, counts, json_path, csv_path)
        if bad:
            raise typer.Exit(bad[0].exit_code)


def _run_batch_with_progress(batch_mod: Any, planned: list[Any], jobs: int) -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = _stderr()
    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
    )  # fmt: skip
    with progress:
        task = progress.add_task("generating", total=len(planned))

        def done(outcome: Any) -> None:
            progress.advance(task)
            if outcome.status == "failed":
                progress.console.print(f"line {outcome.line}: {outcome.reason}", markup=False)

        return batch_mod.run_batch(planned, jobs, done)


def _print_batch_summary(outcomes: list[Any], counts: dict[str, int], *paths: Path) -> None:
    from rich.table import Table

    console = _stderr()
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("line", "student", "project", "status", "reason / path"):
        table.add_column(column)
    for o in outcomes:
        style = {"failed": "red", "skipped": "dim"}.get(o.status, "green")
        table.add_row(str(o.line), o.student_id, o.project, f"[{style}]{o.status}[/{style}]",
                      o.reason or o.path)  # fmt: skip
    console.print(table)
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) +
                  f"; summary: {paths[0]} and {paths[1]}")  # fmt: skip


@app.command()
def verify(
    path: Annotated[Path, typer.Argument(help="A generated repo.")],
    venv: Annotated[
        Path | None,
        typer.Option("--venv", metavar="DIR", help="Reuse (or create) this venv; kept afterwards."),
    ] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Prove a generated repo works: fresh venv, install, its tests offline, its smoke run."""
    with _reported(as_json, verbose):
        if not path.is_dir():
            raise UsageError(f"{path}: no such folder")
        report = _run_verify(path, venv, as_json)
        if as_json:
            payload = report.as_dict()
            if not report.ok:
                payload["exit_code"] = 7
            _emit_json(payload)
        if not report.ok:
            raise typer.Exit(7)


def _run_verify(path: Path, venv: Path | None, as_json: bool) -> Any:
    """Verify with a live display on stderr; print the summary unless --json; return the report."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from mlstarter import verify as verify_mod

    console = _stderr()
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=12),
        TextColumn("{task.completed}/{task.total} steps"), TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[last]}"), console=console, transient=True,
    )  # fmt: skip
    total = 3 if venv is not None and (venv / "bin" / "python").exists() else 4
    task = progress.add_task("verify", total=total, last="")

    def on_event(kind: str, name: str, text: str) -> None:
        if kind == "start":
            progress.update(task, description=name, last="")
        elif kind == "line" and text.strip():
            progress.update(task, last=text.strip()[:60])
        elif kind == "end":
            progress.advance(task)
            mark = "[green]ok[/green]" if text == "ok" else f"[red]failed ({text})[/red]"
            progress.console.print(f"  {name}: {mark}")

    console.print(f"Verifying {path.resolve()}")
    with progress:
        report = verify_mod.verify(path, venv, on_event)
    if not as_json:
        _print_verify_summary(report)
    failed = report.failed_step
    if failed is not None:
        sys.stderr.write("\n".join(failed.tail) + "\n")
        sys.stderr.write(f"error: verification failed at step '{failed.name}'\n")
    return report


def _print_verify_summary(report: Any) -> None:
    from rich.table import Table

    table = Table(title="verification", box=None, header_style="bold", title_justify="left")
    table.add_column("step")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for step in report.steps:
        result = "[green]pass[/green]" if step.ok else f"[red]fail (exit {step.returncode})[/red]"
        table.add_row(step.name, result, f"{step.seconds:.1f}")
    console = _stderr()
    console.print(table)
    metrics = (report.smoke or {}).get("metrics")
    if isinstance(metrics, dict) and metrics:
        console.print("smoke metrics: " + ", ".join(f"{k}={v}" for k, v in metrics.items()))


def check_flavor(flavor: str) -> str:
    """The flavor, or a usage error listing the allowed ones."""
    from mlstarter.flavors import FLAVORS

    if flavor not in FLAVORS:
        raise UsageError(f"--flavor '{flavor}': choose one of {', '.join(FLAVORS)}")
    return flavor


def _print_dry_run(target: Path, files: list[str], state: str) -> None:
    console = _stderr()
    console.print(f"Would write {len(files)} files to {target}:")
    for name in files:
        console.print(f"  {name}", markup=False)
    if state == "occupied":
        console.print("The existing folder would first be moved to a timestamped backup.")
    console.print("Nothing was written (--dry-run).")


def _print_created(project: Project, result: Any, answers: dict[str, object]) -> None:
    console = _stderr()
    console.print(
        f"[green]Created[/green] {result.path} ({len(result.files)} files) "
        f"from the {project.key} template."
    )
    if result.backup:
        console.print(f"The folder that was there is now {result.backup}")
    if result.git_commit:
        console.print(f"git repository with one commit: {result.git_commit[:12]}")
    console.print(
        "Next:\n"
        f"  cd {result.path}\n"
        "  python3.11 -m venv .venv && . .venv/bin/activate\n"
        f"  make setup && make smoke   # then read README.md: the problem to solve",
        markup=False,
    )


def _ask_project(catalog: Catalog) -> str:
    from rich.prompt import Prompt

    console = _stderr()
    console.print("Which featured project do you want to experiment with?\n")
    console.print(_project_table(catalog.projects, numbered=True))
    while True:
        reply = Prompt.ask("\nProject (number or key)", console=console, default="1").strip()
        if reply.isdigit() and 1 <= int(reply) <= len(catalog.projects):
            return catalog.projects[int(reply) - 1].key
        if reply in catalog.keys:
            return reply
        console.print(f"[red]'{reply}': type a number from 1 to {len(catalog.keys)} or a key[/red]")


def _ask_question(question: Any, default: object) -> object:
    """Ask one template question on the terminal until the answer passes validation."""
    from rich.prompt import Confirm, Prompt

    from mlstarter.answers import check_value
    from mlstarter.errors import AnswerError

    console = _stderr()
    while True:
        if question.is_bool:
            reply: object = Confirm.ask(
                f"{question.help} [dim]({question.name})[/dim]",
                console=console,
                default=bool(default),
            )
        elif question.choices:
            console.print(f"{question.help} [dim]({question.name})[/dim]")
            for n, choice in enumerate(question.choices, start=1):
                console.print(f"  {n}. {choice}", markup=False)
            picked = Prompt.ask(
                "  choose",
                console=console,
                default=str(question.choices.index(default) + 1)
                if default in question.choices
                else "1",
            ).strip()
            reply = (
                question.choices[int(picked) - 1]
                if picked.isdigit() and 1 <= int(picked) <= len(question.choices)
                else picked
            )
        else:
            reply = Prompt.ask(
                f"{question.help} [dim]({question.name})[/dim]",
                console=console,
                default=str(default),
            )
        try:
            return check_value(question, reply)
        except AnswerError as exc:
            console.print(f"[red]{exc}[/red]", markup=True)


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. embedded): keep the default
        pass


def main() -> None:
    """Console-script entry point."""
    _interrupt_on_sigterm()
    app()
