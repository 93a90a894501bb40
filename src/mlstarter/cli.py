"""The command line: flags in, exit codes out. The only module that prints.

A command's result goes to stdout: the tables of `list` and `info`, the summary of `new`, `batch`,
`update` (its unified diff under `--dry-run`; the summary then goes to stderr) and `verify`
(`--json`: exactly one JSON object instead, also for every usage error, the argument parser's
included). Prompts, progress, notes and errors go to stderr. An error is one line, with
the traceback only under `--verbose`. Everything shown that came from the user or a child process
has its control characters escaped and the credentials of its URLs hidden.

SIGINT and SIGTERM (to the process or its group) stop new work at once; in-flight bakes finish or
roll back, the message says what exists, and the exit code is 130 (SIGTERM: 143).

cookiecutter and jinja2 are imported only by the commands that generate, so `--help`, `list` and
`info` start fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from mlstarter import __version__, interrupts
from mlstarter.catalog import HARDWARE, Catalog, Project, load_catalog
from mlstarter.errors import MissingAnswerError, MlstarterError, UsageError, require_folder
from mlstarter.interrupts import Interrupted
from mlstarter.sanitize import escape_controls, redact_secrets

try:  # typer >= 0.20 vendors click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import (  # type: ignore[assignment]
        ClickException,
        NoArgsIsHelpError,
    )


def shown(text: object) -> str:
    """Text from the user or a child process, safe to show on a terminal: one line, no control
    characters, no credentials."""
    return escape_controls(redact_secrets(str(text)))


def _wants_json(args: Sequence[str]) -> bool:
    words = list(args)
    if "--" in words:
        words = words[: words.index("--")]
    return any(word == "--json" or word.startswith("--json=") for word in words)


class _Commands(TyperGroup):
    """The root group: signal handling for every command, and usage errors in the contract's form
    (one line on stderr; under --json also one JSON object on stdout)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        # `python -m mlstarter` is the same program: one name for usage and shell completion
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):  # undecodable path bytes print as \xff, not a crash
                stream.reconfigure(errors="backslashreplace")
        restore = interrupts.install()
        _Emitted.done = False
        try:
            code = super().main(
                args=argv, prog_name=prog_name or "mlstarter", complete_var=complete_var,
                standalone_mode=False, **extra,
            )  # fmt: skip
        except NoArgsIsHelpError as exc:
            exc.ctx.get_help()  # typer prints the help itself
            code = exc.exit_code
        except ClickException as exc:
            code = _usage_error(exc, _wants_json(argv))
        except KeyboardInterrupt as exc:  # a signal while the arguments were parsed
            stop = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
            code = _usage_error_line(f"interrupted by {stop.signal_name}", stop.exit_code, argv)
        finally:
            restore()
        if code == 130 and interrupts.requested() == signal.SIGTERM:
            code = 143
        code = 0 if code is None else code
        if standalone_mode:
            sys.exit(code)
        return code


def _usage_error(exc: ClickException, as_json: bool) -> int:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    line = shown(message) + hint
    sys.stderr.write(f"error: {line}\n")
    if as_json:
        _emit_json({"ok": False, "error": line, "exit_code": exc.exit_code})
    return exc.exit_code


def _usage_error_line(message: str, code: int, argv: list[str]) -> int:
    sys.stderr.write(f"error: {message}\n")
    if _wants_json(argv):
        _emit_json({"ok": False, "error": message, "exit_code": code})
    return code


app = typer.Typer(
    name="mlstarter",
    help="Generate a ready-to-run starter repo for one of the featured ML projects.",
    epilog="Examples: mlstarter list | mlstarter info transformers | "
    "mlstarter new python-autocomplete --no-input -o ~/code",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Commands,
)

MAX_ERROR_LINE = 2000
TemplateOpt = Annotated[
    Path | None,
    typer.Option(
        "--template",
        metavar="PATH",
        help="A cookiecutter template of your own (a private assignment) instead of a featured "
        "project; see templates/README.md.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")]


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _print_result(*renderables: Any) -> None:
    """A command's result on stdout: wide enough for one row a line when piped, no trailing
    spaces (so `mlstarter list | grep nlp` sees whole rows)."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else 200
    console = Console(file=sys.stdout, highlight=False, soft_wrap=True, width=width)
    with console.capture() as captured:
        for renderable in renderables:
            console.print(renderable)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _text(value: object, style: str = "") -> Any:
    """User or child-process text as a rich Text: never read as markup, always escaped."""
    from rich.text import Text

    return Text(shown(value), style=style)


class _Emitted:
    """Whether this invocation already put its JSON object on stdout (there is only one)."""

    done = False


def _emit_json(payload: dict[str, object]) -> None:
    _Emitted.done = True
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@dataclass
class _Run:
    """What a command has done so far: what an interrupt message says, what its JSON adds."""

    interrupted_says: str = "nothing was written"
    extra: dict[str, object] = field(default_factory=dict)


@contextmanager
def _reported(as_json: bool, verbose: bool) -> Iterator[_Run]:
    """Turn errors and interrupts into one line on stderr and the contract's exit code."""
    run = _Run()
    try:
        yield run
    except MlstarterError as exc:
        _fail(str(exc), exc.exit_code, as_json, verbose, run.extra)
    except KeyboardInterrupt as exc:
        stop = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        message = f"interrupted by {stop.signal_name}; {run.interrupted_says}"
        _fail(message, stop.exit_code, as_json, verbose, run.extra)
    except EOFError:
        _fail("input ended before every question was answered; nothing was written "
              "(use --no-input with --set or --answers)", 4, as_json, verbose)  # fmt: skip
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:  # `mlstarter list | head -1`: the reader left; say nothing
        sys.stderr.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None  # 128 + SIGPIPE, as a shell reports it
    except OSError as exc:  # the system refused (disk full, permission): not a bug
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", 8, as_json, verbose, run.extra)
    except Exception as exc:  # a bug: say so, briefly, unless asked for the traceback
        _fail(f"internal error: {type(exc).__name__}: {exc}", 1, as_json, verbose)


def _fail(
    message: str, code: int, as_json: bool, verbose: bool, extra: dict[str, object] | None = None
) -> None:
    if verbose:
        traceback.print_exc(file=sys.stderr)
    line = shown(message)
    if len(line) > MAX_ERROR_LINE:  # a megabyte typed as a key is still one readable line
        line = line[: MAX_ERROR_LINE - 5] + " [...]"
    sys.stderr.write(f"error: {line}\n")
    if not verbose and code == 1:
        sys.stderr.write("(run again with --verbose for the traceback)\n")
    if as_json and not _Emitted.done:  # a signal after the result: the exit code tells it
        _emit_json({**(extra or {}), "ok": False, "error": line, "exit_code": code})
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
        _print_result(_project_table(projects))


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
            table.add_row(str(n), _text(p.key), _text(p.title), _text(p.tagline))
        else:
            table.add_row(_text(p.key), _text(p.title), _text(p.domain), HARDWARE[p.hardware])
    return table


@app.command()
def info(
    key: Annotated[str, typer.Argument(help="Project key, as `mlstarter list` shows it.")],
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """The full card of one project: summary, problem, success metric, frameworks, size, link."""
    with _reported(as_json, verbose):
        from rich.table import Table
        from rich.text import Text

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
        heading = Text.assemble((project.title, "bold"), "  (", (project.key, "cyan"), ")")
        rows = [
            ("summary", project.summary),
            ("problem", project.problem),
            ("success metric", project.success_metric),
            ("frameworks", ", ".join(project.frameworks)),
            ("hardware", HARDWARE[project.hardware]),
            ("install size", project.install_size),
            ("upstream", project.upstream),
            ("questions", ", ".join(str(q["name"]) for q in questions)),
        ]
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for label, text in rows:
            table.add_row(label, _text(text))
        _print_result(
            heading, _text(project.tagline), "", table, "", _text(f"Start it: mlstarter new {key}")
        )


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
        bool,
        typer.Option(
            "--force", help="Move an existing target (and grader folder) to a timestamped backup."
        ),
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
    template: TemplateOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Generate a starter repo from a featured project's template (or one of your own)."""
    with _reported(as_json, verbose) as run:
        from mlstarter import answers as answers_mod
        from mlstarter import generate

        interactive = not no_input
        if interactive and not stdin_is_terminal():
            raise MissingAnswerError(
                "stdin is not a terminal, so nothing can be asked: add --no-input "
                "(answers then come from --answers, --set and the template defaults)"
            )
        plan = generate.plan_bake(
            key,
            template=template,
            answers_file=answers_file,
            set_values=answers_mod.parse_set_options(set_values or []),
            flavor=flavor,
            output_dir=output_dir,
            pick_project=_ask_project if interactive else None,
            ask=_ask_question if interactive else None,
        )
        project, spec, answers, flavor = plan.project, plan.spec, plan.answers, plan.flavor
        out, slug = plan.output_dir, plan.target.name
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
        result = generate.bake(
            project.key, spec, answers, out, force=force, git=git, flavor=flavor, grader=plan.grader
        )
        run.interrupted_says = f"{result.path} was created completely before it stopped"
        run.extra = {"path": str(result.path)}
        _note_cleaned(result.cleaned)
        payload.update(
            dry_run=False,
            files=len(result.files),
            backup=str(result.backup) if result.backup else None,
            git_commit=result.git_commit,
            grader=str(result.grader) if result.grader else None,
            grader_status=result.grader_status,
            grader_backup=str(result.grader_backup) if result.grader_backup else None,
            cleaned_staging=result.cleaned,
        )
        interrupts.check()  # a signal during the final renames: the repo is complete, say so
        if not as_json:
            _print_created(project, result, flavor)
        if verify_after:
            run.interrupted_says = (
                f"the repo {result.path} was created and is kept; its verification was stopped "
                "(its processes ended)"
            )
            report = _run_verify(result.path, None, as_json)
            payload["verify"] = report.as_dict()
            if not report.ok:
                if as_json:
                    _emit_json({**payload, "ok": False, "exit_code": 7})
                raise typer.Exit(7)
        if as_json:
            _emit_json(payload)


def _note_cleaned(cleaned: list[str]) -> None:
    for name in cleaned:
        _stderr().print(
            _text(f"note: removed {name}, a staging folder left by a run that was killed")
        )


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
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=64, help="Rows baked at once.")
    ] = min(4, os.cpu_count() or 1),
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
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Update every row's existing repo to the current template (mlstarter update); "
            "assignment projects get their grader folder rewritten.",
        ),
    ] = False,
    conflicts: Annotated[
        str,
        typer.Option(
            "--conflicts", metavar="refuse|markers", help="With --update: as for `update`."
        ),
    ] = "refuse",
    template: TemplateOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """One repo per roster row, in parallel, each atomic; a summary of every row."""
    with _reported(as_json, verbose) as run:
        from mlstarter import answers as answers_mod
        from mlstarter import batch as batch_mod
        from mlstarter import generate, gitrepo
        from mlstarter.flavors import check_flavor

        check_flavor(flavor)
        if update and (force or git or remote):
            raise UsageError(
                "--update merges into the existing repos: not with --force, --git or --remote"
            )
        if conflicts not in ("refuse", "markers"):
            raise UsageError(f"--conflicts '{conflicts}': choose one of refuse, markers")
        if remote is not None:
            if "{student_id}" not in remote:
                raise UsageError(
                    "--remote must contain {student_id}, or every repo goes to one URL"
                )
            gitrepo.check_remote(remote)
            git = True
        catalog = load_catalog()
        private_dir = None
        if template is not None:
            from mlstarter.catalog import private_template, with_private

            own = private_template(template, catalog)
            if project is not None and project != own.key:
                raise UsageError(
                    f"--project {project} and --template {template} disagree; give --template only"
                )
            catalog, project, private_dir = with_private(catalog, own), own.key, own.template_dir
        if project is not None:
            catalog.get(project)
        out = generate.check_output_dir(output_dir, private_dir)
        batch_mod.refuse_summary_as_roster(roster, out)
        rows = batch_mod.read_roster(roster)
        base, _ = batch_mod.base_answers(
            answers_file, answers_mod.parse_set_options(set_values or []), project
        )
        planned, failed = batch_mod.plan_rows(
            rows, catalog, out, project, base, flavor, force, git, remote
        )
        if update:
            planned = batch_mod.with_recorded_flavors(planned, conflicts)
        interrupts.check()  # interrupted while reading and checking: nothing was written
        with interrupts.deferred():
            created = generate.make_output_dir(out)
            try:
                with batch_mod.exclusive(out):
                    outcome = _run_batch(batch_mod, generate, out, planned, failed, jobs)
            except BaseException:
                generate.remove_created(created)
                raise
        outcomes, graders, signum, paths, summary_error = outcome
        run.interrupted_says = "every row had ended before it stopped; the summary is written"
        _report_batch(batch_mod, outcomes, graders, signum, paths, summary_error, as_json)


def _run_batch(
    batch_mod: Any, generate: Any, out: Path, planned: list[Any], failed: list[Any], jobs: int
) -> tuple[list[Any], list[Any], int | None, tuple[Path, Path], str | None]:
    """The writing part of a batch (under the output folder's lock, signals deferred)."""
    _note_cleaned(generate.clean_stale_staging(out))
    _note_cleaned(generate.clean_stale_staging(out / batch_mod.GRADER_DIR))
    for outcome in failed:
        _stderr().print(_text(f"line {outcome.line}: {outcome.reason}"))
    graders: list[Any] = []
    signum = None
    try:
        graders = batch_mod.write_graders(planned, out)
    except Interrupted as exc:
        signum = exc.signum
    for grader in graders:
        if grader.status == "failed":
            _stderr().print(_text(f"grader {grader.path}: {grader.reason}"))
    if signum is None:
        done = _run_batch_with_progress(batch_mod, planned, jobs)
    else:
        done = [batch_mod.run_job(job, lambda: signum) for job in planned]
    outcomes = sorted(list(failed) + done, key=lambda o: o.line)
    signum = signum or interrupts.requested()
    name = signal.Signals(signum).name if signum else None
    summary_error = None
    paths = (out / batch_mod.SUMMARY_JSON, out / batch_mod.SUMMARY_CSV)
    try:
        templates = batch_mod.templates_of(planned)
        paths = batch_mod.write_summary(out, outcomes, graders, name, templates)
    except OSError as exc:
        summary_error = str(generate.refused(exc, "cannot write the batch summary"))
    return outcomes, graders, signum, paths, summary_error


def _report_batch(
    batch_mod: Any,
    outcomes: list[Any],
    graders: list[Any],
    signum: int | None,
    paths: tuple[Path, Path],
    summary_error: str | None,
    as_json: bool,
) -> None:
    counts = batch_mod.count(outcomes)
    # an interrupted row while the batch itself was not (a signal to one worker) is not done
    bad = [o for o in [*outcomes, *graders] if o.status in ("failed", "interrupted")]
    code = 0
    message = None
    said = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if signum is not None:
        stop = Interrupted(signum)
        code = stop.exit_code
        message = (
            f"interrupted by {stop.signal_name}: {said}; every row is a complete repo or nothing"
        )
    elif summary_error is not None:
        code, message = 8, summary_error
    elif bad:
        code = bad[0].exit_code
    elif any(o.status == "conflicts" for o in outcomes):
        code = next(o.exit_code for o in outcomes if o.status == "conflicts")
    summary = None if summary_error else str(paths[0])
    if as_json:
        _emit_json({
            "ok": code == 0, "counts": counts, "summary": summary,
            "rows": [vars(o) for o in outcomes], "graders": [vars(g) for g in graders],
            **({"interrupted": signal.Signals(signum).name} if signum else {}),
            **({"exit_code": code, "error": shown(message or "some rows failed")} if code else {}),
        })  # fmt: skip
    else:
        _print_batch_summary(outcomes, said, paths, summary_error is None)
    if message is not None:
        sys.stderr.write(f"error: {shown(message)}\n")
    if code:
        raise typer.Exit(code)


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
                progress.console.print(_text(f"line {outcome.line}: {outcome.reason}"))

        outcomes: list[Any] = batch_mod.run_batch(planned, jobs, done)
        return outcomes


def _print_batch_summary(
    outcomes: list[Any], said: str, paths: tuple[Path, Path], written: bool
) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("line", "student", "project", "status", "reason / path"):
        table.add_column(column)
    for o in outcomes:
        style = {"failed": "red", "interrupted": "yellow", "conflicts": "yellow",
                 "skipped": "dim", "up to date": "dim"}.get(o.status, "green")  # fmt: skip
        table.add_row(str(o.line), _text(o.student_id), _text(o.project), _text(o.status, style),
                      _text(o.reason or o.path))  # fmt: skip
    where = f"summary: {paths[0]} and {paths[1]}" if written else "no summary written"
    _print_result(table, _text(f"{said}; {where}"))


@app.command()
def update(
    path: Annotated[
        Path, typer.Argument(help="The generated repo to update (default: this folder).")
    ] = Path("."),
    no_input: Annotated[
        bool,
        typer.Option(
            "--no-input",
            help="Ask nothing: a question new in this version takes its default (or --set).",
        ),
    ] = False,
    set_values: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="Change one answer (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the unified diff of the update; write nothing."),
    ] = False,
    conflicts: Annotated[
        str,
        typer.Option(
            "--conflicts",
            metavar="refuse|markers",
            help="refuse (default): when a file has conflicts, write nothing and list them; "
            "markers: write every file, conflicts marked <<<<<<< ... >>>>>>> in them.",
        ),
    ] = "refuse",
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Update a git repo with uncommitted changes.")
    ] = False,
    template: TemplateOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Bring a generated repo to its template's current version, three-way, keeping your edits.

    Exit codes: 0 updated or up to date, 10 conflicts (nothing written unless --conflicts
    markers), 11 refused (not an mlstarter repo, uncommitted changes); the others as for new.
    """
    with _reported(as_json, verbose) as run:
        from mlstarter import update as update_mod
        from mlstarter.answers import parse_set_options

        run.interrupted_says = f"{path} is exactly as it was"
        result = update_mod.update(
            path,
            template=template,
            set_values=parse_set_options(set_values or []),
            ask=_asker(no_input),
            dry_run=dry_run,
            conflicts=conflicts,
            allow_dirty=allow_dirty,
        )
        if result.written:
            run.interrupted_says = f"{result.repo} was updated completely before it stopped"
        interrupts.check()
        _report_update(result, dry_run, as_json)


def _asker(no_input: bool) -> Any:
    """How `update` asks a question new in this version: on the terminal, or not at all."""
    if no_input:
        return None

    def ask(spec: Any, question: Any, default: object) -> object:
        if not stdin_is_terminal():
            raise MissingAnswerError(
                f"'{question.name}' is new in this template version and stdin is not a "
                f"terminal: add --no-input (it takes its default) or --set {question.name}=..."
            )
        return _ask_question(spec, question, default)

    return ask


def _report_update(result: Any, dry_run: bool, as_json: bool) -> None:
    from mlstarter.update import CONFLICTS_EXIT

    code = CONFLICTS_EXIT if result.conflicts else 0
    head = (
        f"{result.repo}: {result.template} {result.old_version or '?'} -> {result.new_version}"
        f" ({result.flavor}; base: {result.base}): {result.status}"
    )
    if as_json:
        payload = {"ok": code == 0, "dry_run": dry_run, **result.as_dict()}
        if dry_run:
            payload["diff"] = result.diff
        if code:
            payload.update(exit_code=code, error=_conflicts_line(result, dry_run))
        _emit_json(payload)
    else:
        lines = [head, *(f"  {c.action:<9} {c.path}" + (f"  ({c.note})" if c.note else "")
                         for c in result.changes)]  # fmt: skip
        if dry_run:
            sys.stdout.write(result.diff)
            sys.stdout.flush()
            lines.append("Nothing was written (--dry-run).")
            sys.stderr.write("".join(shown(line) + "\n" for line in lines))
        else:
            sys.stdout.write("".join(shown(line) + "\n" for line in lines))
    if code:
        sys.stderr.write(f"error: {shown(_conflicts_line(result, dry_run))}\n")
        raise typer.Exit(code)


def _conflicts_line(result: Any, dry_run: bool) -> str:
    files = ", ".join(result.conflicts)
    if result.written:
        return f"conflicts marked in {files}: resolve them, then commit"
    if dry_run:
        return f"conflicts in {files}"
    return f"conflicts in {files}; nothing was written (--conflicts markers writes them marked)"


@app.command()
def verify(
    path: Annotated[Path, typer.Argument(help="A generated repo.")],
    venv: Annotated[
        Path | None,
        typer.Option("--venv", metavar="DIR", help="Reuse (or create) this venv; kept afterwards."),
    ] = None,
    timeout: Annotated[
        int,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            min=1,
            max=7 * 24 * 3600,
            help="Time limit of each step (venv, setup, test, smoke).",
        ),
    ] = 1800,
    installer: Annotated[
        str,
        typer.Option(
            "--installer",
            metavar="auto|uv|pip",
            help="What `make setup` installs with; auto takes uv when it is on PATH.",
        ),
    ] = "auto",
    groups: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            metavar="GROUP",
            help="Also install this dependency group (repeatable): --with demo runs the demo's "
            "tests too, its browser tests where Chromium is installed.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Prove a generated repo works: fresh venv, install, lint, its tests offline, its smoke run."""
    with _reported(as_json, verbose) as run:
        require_folder(path)
        run.interrupted_says = "verification stopped; its processes were ended"
        report = _run_verify(path, venv, as_json, timeout, installer, groups or [])
        if as_json:
            payload = report.as_dict()
            if not report.ok:
                payload["exit_code"] = 7
            _emit_json(payload)
        if not report.ok:
            raise typer.Exit(7)


def _run_verify(
    path: Path,
    venv: Path | None,
    as_json: bool,
    timeout: float = 1800,
    installer: str = "auto",
    groups: Sequence[str] = (),
) -> Any:
    """Verify with a live display on stderr; print the summary unless --json; return the report."""
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from mlstarter import verify as verify_mod

    console = _stderr()
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=12),
        TextColumn("{task.completed}/{task.total} steps"), TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[last]}"), console=console, transient=True,
    )  # fmt: skip
    total = 4 if venv is not None and (venv / "bin" / "python").exists() else 5
    task = progress.add_task("verify", total=total, last="")

    def on_event(kind: str, name: str, text: str) -> None:
        if kind == "start":
            progress.update(task, description=name, last="")
        elif kind == "line" and text.strip():
            progress.update(task, last=escape(shown(text.strip()[:60])))
        elif kind == "end":
            progress.advance(task)
            mark = _text("ok", "green") if text == "ok" else _text(f"failed ({text})", "red")
            progress.console.print(_text(f"  {name}: "), mark, sep="")

    console.print(_text(f"Verifying {path.resolve()}"))
    with progress:
        report = verify_mod.verify(
            path, venv, on_event, timeout=timeout, installer=installer, groups=groups
        )
    if not as_json:
        _print_verify_summary(report)
    failed = report.failed_step
    if failed is not None:
        sys.stderr.write("".join(shown(line) + "\n" for line in failed.tail))
        why = shown(failed.reason)
        sys.stderr.write(f"error: verification failed at step '{failed.name}': {why}\n")
    return report


def _print_verify_summary(report: Any) -> None:
    from rich.table import Table

    title = f"verification (installed with {report.installer}"
    title += f", with {' '.join(report.groups)})" if report.groups else ")"
    table = Table(title=title, box=None, header_style="bold", title_justify="left")
    table.add_column("step")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for step in report.steps:
        result = _text("pass", "green") if step.ok else _text(f"fail ({step.reason})", "red")
        table.add_row(step.name, result, f"{step.seconds:.1f}")
    parts: list[Any] = [table]
    if report.skipped:
        total = sum(int(skip["count"]) for skip in report.skipped)
        skips = Table(title=f"tests skipped: {total}", box=None, header_style="bold",
                      title_justify="left")  # fmt: skip
        for column in ("tests", "where", "why"):
            skips.add_column(column, justify="right" if column == "tests" else "left")
        for skip in report.skipped:
            skips.add_row(_text(skip["count"]), _text(skip["where"]), _text(skip["reason"]))
        parts.append(skips)
    if report.targets:
        targets = Table(title="smoke targets", box=None, header_style="bold", title_justify="left")
        for column in ("target", "value", "op", "threshold", "met", "source"):
            numeric = column in ("value", "threshold")
            targets.add_column(column, justify="right" if numeric else "left")
        for t in report.targets:
            met = _text("met", "green") if t["met"] else _text("MISSED", "red")
            targets.add_row(_text(t["name"]), _text(t["value"]), _text(t["op"]),
                            _text(t["threshold"]), met, _text(t["source"]))  # fmt: skip
        parts.append(targets)
    metrics = (report.smoke or {}).get("metrics")
    if isinstance(metrics, dict) and metrics:
        parts.append(_text("smoke metrics: " + ", ".join(f"{k}={v}" for k, v in metrics.items())))
    _print_result(*parts)


@app.command()
def grade(
    class_dir: Annotated[Path, typer.Argument(help="A class folder made by `mlstarter batch`.")],
    grader: Annotated[
        Path | None,
        typer.Option(
            "--grader",
            metavar="DIR",
            help="The grader folder (hidden tests, grading.yml); default CLASS_DIR/_grader/KEY.",
        ),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=64, help="Students graded at once.")
    ] = min(2, os.cpu_count() or 1),
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, max=999_999, help="The common seed of every smoke run."),
    ] = 0,
    timeout: Annotated[
        int | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            min=1,
            max=7 * 24 * 3600,
            help="Time limit of one student's test run, and of their smoke (default 900).",
        ),
    ] = None,
    smoke: Annotated[
        bool, typer.Option("--smoke/--no-smoke", help="Run each smoke for the leaderboard.")
    ] = True,
    venv: Annotated[
        Path | None,
        typer.Option(
            "--venv",
            metavar="DIR",
            help="Run every student in this environment instead of one made per project.",
        ),
    ] = None,
    template: TemplateOpt = None,
    installer: Annotated[
        str,
        typer.Option("--installer", metavar="auto|uv|pip", help="What makes the environments."),
    ] = "auto",
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Grade every student repo of a batch: hidden and pristine tests, isolated; a leaderboard."""
    with _reported(as_json, verbose) as run:
        from mlstarter import batch as batch_mod
        from mlstarter import grade as grade_mod
        from mlstarter import gradereport
        from mlstarter.verify import choose_installer

        require_folder(class_dir)
        choose_installer(installer, os.environ.get("PATH", ""))
        options = grade_mod.Options(
            class_dir.resolve(), grader, jobs, seed, timeout, template, venv, smoke, installer
        )
        run.interrupted_says = (
            "no grades were written (earlier grade files are as they were); every process it "
            "started was ended"
        )
        with batch_mod.exclusive(options.class_dir):
            grades = _run_grade_with_progress(grade_mod, options)
            with interrupts.deferred():
                written = gradereport.write_all(grades)
        run.interrupted_says = f"the grades were written completely: {written['grades_csv']}"
        interrupts.check()
        _report_grades(grades, written, as_json)


def _run_grade_with_progress(grade_mod: Any, options: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = _stderr()
    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
    )  # fmt: skip
    with progress:
        task = progress.add_task("preparing", total=None)

        def on_event(kind: str, text: str) -> None:
            if kind == "total":
                progress.update(task, total=int(text), description="grading")
            elif kind == "done":
                progress.advance(task)
            elif text.startswith("  "):
                progress.update(task, description=_text(text.strip()[:70]).plain)
            else:
                progress.console.print(_text(text))

        return grade_mod.grade_class(options, on_event)


def _report_grades(grades: Any, written: dict[str, Any], as_json: bool) -> None:
    not_graded = [s for s in grades.students if s.status in ("missing", "not generated", "error")]
    code = 9 if not_graded else 0
    for key, plan in grades.projects.items():
        for note in plan.calibration_notes:
            _stderr().print(_text(f"note: {key}: {note}"))
    for note in grades.notes:
        _stderr().print(_text(f"note: {note}"))
    for path in written["backups"]:
        _stderr().print(_text(f"note: an earlier grade file that was changed is now {path}"))
    if as_json:
        _emit_json({
            "ok": code == 0, "class_dir": str(grades.class_dir), "seed": grades.seed,
            "network": grades.network, **written,
            "projects": {
                key: {"max_points": sum(t.points for t in plan.tests if t.graded),
                      "graded_tests": sum(t.graded for t in plan.tests),
                      "leaderboard_metric": plan.metric, "notes": plan.calibration_notes}
                for key, plan in grades.projects.items()
            },
            "students": [
                {"student_id": s.student_id, "project": s.project, "status": s.status,
                 "points": s.points, "max_points": s.max_points, "percent": s.percent,
                 "smoke_ok": None if s.smoke is None else bool(s.smoke.get("ok")),
                 "reason": shown(s.reason)}
                for s in grades.students
            ],
            **({"exit_code": code, "error": f"{len(not_graded)} student(s) not graded"}
               if code else {}),
        })  # fmt: skip
    else:
        _print_grades(grades, written)
    if code:
        sys.stderr.write(
            f"error: {len(not_graded)} student(s) could not be graded: "
            + shown(", ".join(f"{s.student_id} ({s.status})" for s in not_graded[:10]))
            + "\n"
        )
        raise typer.Exit(code)


def _print_grades(grades: Any, written: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("student", "project", "status", "points", "of", "%", "smoke"):
        table.add_column(column, justify="right" if column in ("points", "of", "%") else "left")
    for s in grades.students:
        smoke = "" if s.smoke is None else ("ok" if s.smoke.get("ok") else "failed")
        style = "green" if s.status == "graded" else "red"
        table.add_row(
            _text(s.student_id), _text(s.project), _text(s.status, style),
            "" if s.points is None else f"{s.points:g}",
            "" if s.max_points is None else f"{s.max_points:g}",
            "" if s.percent is None else f"{s.percent:g}", smoke,
        )  # fmt: skip
    lines = [
        f"grades: {written['grades_csv']} and {written['grades_json']}",
        f"leaderboard: {written['leaderboard']} (common seed {grades.seed})",
        f"feedback: {written['feedback']}/",
        f"network while grading: {grades.network}",
    ]
    _print_result(table, *(_text(line) for line in lines))


def _print_dry_run(target: Path, files: list[str], state: str) -> None:
    lines = [f"Would write {len(files)} files to {target}:", *(f"  {name}" for name in files)]
    if state == "occupied":
        lines.append("The existing folder would first be moved to a timestamped backup.")
    lines.append("Nothing was written (--dry-run).")
    sys.stdout.write("".join(shown(line) + "\n" for line in lines))


def _print_created(project: Project, result: Any, flavor: str = "showcase") -> None:
    lines = [f"Created {result.path} ({len(result.files)} files) from the {project.key} template."]
    if result.backup:
        lines.append(f"The folder that was there is now {result.backup}")
    if result.grader and result.grader_status != "up to date":
        lines.append(f"The hidden tests (for grading) are in {result.grader}")
    if result.grader_backup:
        lines.append(f"The grader folder that was there is now {result.grader_backup}")
    if result.git_commit:
        lines.append(f"git repository with one commit: {result.git_commit[:12]}")
    lines += [
        "Next:",
        f"  cd {result.path}",
        "  python3.11 -m venv .venv && . .venv/bin/activate",
        _next_step(Path(result.path), flavor),
    ]
    sys.stdout.write("".join(shown(line) + "\n" for line in lines))


def _next_step(path: Path, flavor: str) -> str:
    """What to run first: the Makefile's rules where it has them (a private template may not)."""
    from mlstarter.flavors import has_rule, has_smoke

    make = has_rule(path, "setup")
    setup = "make setup" if make else 'pip install -e ".[dev]"'
    test = "make test" if has_rule(path, "test") else "python -m pytest"
    smoke = has_smoke(path) and has_rule(path, "smoke")
    if flavor != "assignment":
        first = "make smoke" if smoke else test
        return f"  {setup} && {first}   # then read README.md: the problem to solve"
    done = "; make smoke passes once they are done" if smoke else ""
    return f"  {setup} && {test}   # README.md, Your assignment: the TODOs to write{done}"


def _ask_project(catalog: Catalog) -> str:
    from rich.prompt import Prompt

    console = _stderr()
    console.print("Which featured project do you want to experiment with?\n")
    console.print(_project_table(catalog.projects, numbered=True))
    while True:
        reply = Prompt.ask("\nProject (number or key)", console=console, default="1").strip()
        if _small_number(reply, len(catalog.projects)):
            return catalog.projects[int(reply) - 1].key
        if reply in catalog.keys:
            return reply
        says = f"'{reply}': type a number from 1 to {len(catalog.keys)} or a key"
        console.print(_text(says, "red"))


def _small_number(reply: str, most: int) -> bool:
    return reply.isascii() and reply.isdigit() and len(reply) <= 4 and 1 <= int(reply) <= most


def _ask_question(spec: Any, question: Any, default: object) -> object:
    """Ask one template question on the terminal until the answer passes validation."""
    from rich.markup import escape
    from rich.prompt import Confirm, Prompt

    from mlstarter.answers import check_answer
    from mlstarter.errors import AnswerError

    console = _stderr()
    label = f"{escape(shown(question.help))} [dim]({escape(question.name)})[/dim]"
    while True:
        if question.is_bool:
            reply: object = Confirm.ask(label, console=console, default=bool(default))
        elif question.choices:
            console.print(label)
            for n, choice in enumerate(question.choices, start=1):
                console.print(_text(f"  {n}. {choice}"))
            picked = Prompt.ask(
                "  choose",
                console=console,
                default=str(question.choices.index(default) + 1)
                if default in question.choices
                else "1",
            ).strip()
            reply = (
                question.choices[int(picked) - 1]
                if _small_number(picked, len(question.choices))
                else picked
            )
        else:
            reply = Prompt.ask(label, console=console, default=str(default))
        try:
            return check_answer(spec, question, reply)
        except AnswerError as exc:
            console.print(_text(str(exc), "red"))


def main() -> None:
    """Console-script entry point."""
    app()
