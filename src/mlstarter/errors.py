"""The errors mlstarter reports to its user, each with the exit code the CLI contract gives it.

Library code raises these; only the command-line edge (cli.py) turns them into a message and an exit
code. Anything else that escapes is a bug and exits 1.
"""

from __future__ import annotations

from pathlib import Path


class MlstarterError(Exception):
    """A problem the user can act on; its message is one line."""

    exit_code = 1


class CatalogError(MlstarterError):
    """The catalog or a template folder is malformed (a packaging bug, so exit 1)."""

    exit_code = 1


class UsageError(MlstarterError):
    """A command-line argument is wrong: an unknown project key, an unreadable answers file."""

    exit_code = 2


class AnswerError(MlstarterError):
    """An answer failed validation: unknown name, bad choice, bad pattern."""

    exit_code = 3


class MissingAnswerError(MlstarterError):
    """An answer is needed and there is no terminal to ask it on."""

    exit_code = 4


class TargetExistsError(MlstarterError):
    """The target folder exists and is not empty (or another run is writing to it)."""

    exit_code = 5


class TreeCheckError(MlstarterError):
    """The rendered tree failed its check before being moved into place."""

    exit_code = 6


class VerificationError(MlstarterError):
    """A generated repo failed to install, pass its tests or run its smoke example."""

    exit_code = 7


class SystemRefusedError(MlstarterError):
    """The system refused: a write failed (disk full, no permission, read-only, file too large)
    or git failed. Nothing partial is left behind."""

    exit_code = 8


class GitError(SystemRefusedError):
    """git is missing, or refused to commit or push."""


def require_folder(path: Path, label: str = "") -> None:
    """Raise UsageError unless `path` is a folder: one line that tells a missing path from a file.
    `label` names the option it came from ("--grader")."""
    where = f"{label} {path}" if label else str(path)
    if path.is_dir():
        return
    if path.exists():
        raise UsageError(f"{where}: is a file, not a folder")
    raise UsageError(f"{where}: no such folder")
