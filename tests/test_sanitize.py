"""Output bound for a terminal or a spreadsheet, made safe; signals as a stop request."""

from __future__ import annotations

import os
import signal

import pytest

from mlstarter import interrupts
from mlstarter.sanitize import escape_controls, inert_cell, redact_secrets


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, Zoë", "plain text, Zoë"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("bell\x07 tab\t newline\n", "bell\\x07 tab\\x09 newline\\x0a"),
        ("c1\x9b31m", "c1\\x9b31m"),
        ("file\u202egnp.exe", "file\\u202egnp.exe"),
        (os.fsdecode(b"bytes-\xff"), "bytes-\\xff"),
        ("joiner \u200d stays", "joiner \u200d stays"),
    ],
)
def test_escape_controls_shows_every_unsafe_character_as_an_escape(text, shown):
    assert escape_controls(text) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ada:s3cret@github.com/x.git", "https://ada:***@github.com/x.git"),
        ("https://ghp_abc123@github.com/x.git", "https://***@github.com/x.git"),
        (
            "push to https://x-access-token:tok@host/a failed",
            "push to https://x-access-token:***@host/a failed",
        ),
        (
            "https://host/x.git?access_token=abc&ref=main",
            "https://host/x.git?access_token=***&ref=main",
        ),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("/srv/git/s001.git", "/srv/git/s001.git"),
    ],
)
def test_redact_secrets_hides_the_credentials_of_urls(url, shown):
    assert redact_secrets(url) == shown


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tstart", "\\x09start"),  # escaped, so no longer a formula's lead
        ("ada", "ada"),
        (7, 7),
    ],
)
def test_inert_cell_makes_formulas_text(cell, written):
    assert inert_cell(cell) == written


def test_a_signal_in_a_deferred_region_is_only_recorded():
    restore = interrupts.install()
    try:
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            assert interrupts.requested() == signal.SIGTERM
        with pytest.raises(interrupts.Interrupted) as raised:
            interrupts.check()
        assert raised.value.exit_code == 143
    finally:
        restore()


def test_a_signal_in_an_interruptible_region_raises_once_and_the_unwinding_is_deferred():
    restore = interrupts.install()
    try:
        with interrupts.deferred():
            with pytest.raises(interrupts.Interrupted) as raised:
                with interrupts.interruptible():
                    os.kill(os.getpid(), signal.SIGINT)
                    for _ in range(1000):  # the handler runs between bytecodes
                        pass
            assert raised.value.exit_code == 130
            os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C while cleaning up: recorded
        assert interrupts.requested() == signal.SIGINT
    finally:
        restore()


def test_an_ignored_sigint_stays_ignored():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        restore = interrupts.install()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        restore()
    finally:
        signal.signal(signal.SIGINT, before)
