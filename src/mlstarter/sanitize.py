"""Text bound for a terminal or a spreadsheet, made safe; text bound for a file, checked.

- `escape_controls`: control, bidi and separator characters, and undecodable bytes, as visible
  escapes (`\\x1b`, `\\u202e`), so a roster id cannot recolour or rewrite the user's terminal.
- `redact_secrets`: the password or token in a URL (`https://user:TOKEN@host`, `?token=...`).
- `inert_cell`: a CSV cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) made text.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, lone surrogates (undecodable bytes of a path), and the invisible
# format characters used for tricks: bidi embeddings, overrides and isolates, zero-width space,
# word joiner, byte-order mark, line and paragraph separators. Zero-width (non-)joiners stay:
# Persian, Indic and emoji text needs them.
UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (Python's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` on one line, every unsafe character shown as an escape."""
    return UNSAFE_CHARS.sub(_escape, text)


_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@")
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;](?:[^=&;#\s]*(?:token|key|secret|passw|pwd|auth|signature|sig|credential)"
    r"[^=&;#\s]*)=)(?P<value>[^&;#\s]+)",
    re.I,
)


def _hide_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match.group("userinfo").partition(":")
    # user:secret keeps the user; a lone name may itself be a token (https://TOKEN@github.com)
    return f"{match.group('scheme')}{user}:***@" if colon else f"{match.group('scheme')}***@"


def redact_secrets(text: str) -> str:
    """`text` with the credentials of every URL in it replaced by `***`."""
    return _SECRET_PARAM.sub(r"\g<name>***", _USERINFO.sub(_hide_userinfo, text))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: object) -> object:
    """A CSV cell as data: text a spreadsheet would evaluate gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    text = escape_controls(redact_secrets(value))
    return "'" + text if text.startswith(FORMULA_START) else text
