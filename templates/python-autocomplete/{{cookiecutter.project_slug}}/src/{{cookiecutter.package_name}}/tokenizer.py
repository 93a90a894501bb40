"""Python source to model tokens, with the standard library's ``tokenize`` module.

The model reads a stream of short strings. Names, keywords and operators keep their text;
string and number literals become the placeholders ``<str>`` and ``<num>`` (the model predicts
*that* a literal comes, not its contents); the layout tokens become ``<newline>``, ``<indent>``
and ``<dedent>``. Comments and blank lines are dropped.

f-strings tokenize differently across Python versions: up to 3.11 one f-string is one STRING
token; from 3.12 (PEP 701) it is FSTRING_START, FSTRING_MIDDLE and the tokens of each
replacement field, ending with FSTRING_END (3.14 does the same for t-strings). Both paths
give one ``<str>``. Adjacent literals (``"a" "b"``, one expression) also give one ``<str>``.
"""

from __future__ import annotations

import io
import keyword
import token as token_codes
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

STR = "<str>"
NUM = "<num>"
NEWLINE = "<newline>"
INDENT = "<indent>"
DEDENT = "<dedent>"
PLACEHOLDERS = frozenset({STR, NUM})
LAYOUT = frozenset({NEWLINE, INDENT, DEDENT})

# Missing on older Pythons: a negative code never matches a real token type.
FSTRING_START: int = getattr(token_codes, "FSTRING_START", -1)
FSTRING_END: int = getattr(token_codes, "FSTRING_END", -2)
TSTRING_START: int = getattr(token_codes, "TSTRING_START", -3)
TSTRING_END: int = getattr(token_codes, "TSTRING_END", -4)
_LITERAL_OPENERS = frozenset({FSTRING_START, TSTRING_START})
_LITERAL_CLOSERS = frozenset({FSTRING_END, TSTRING_END})
_DROPPED = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER})


class TokenizeError(ValueError):
    """The source cannot be tokenized (a syntax error, a bad encoding, an unreadable file)."""


@dataclass(frozen=True, slots=True)
class Token:
    """One model token.

    ``text`` is what the model sees (``"self"``, ``"("``, ``"<str>"``); ``source`` is what the
    programmer typed for it (``"'hello'"`` for a ``<str>``), used to count keystrokes.
    """

    text: str
    source: str

    @property
    def typed_chars(self) -> int:
        """Characters a programmer types for this token (an editor writes indentation)."""
        if self.text == NEWLINE:
            return 1
        if self.text in (INDENT, DEDENT):
            return 0
        return len(self.source)


def tokens_from_stream(infos: Iterable[tokenize.TokenInfo], *, strict: bool = True) -> list[Token]:
    """Turn ``tokenize`` output into model tokens.

    Works on any stream of ``TokenInfo`` (so the Python 3.12 f-string path can be tested on
    3.11 with a synthetic stream). With ``strict`` an ERRORTOKEN raises ``TokenizeError``;
    without it the stream stops there and the tokens before it are returned.
    """
    tokens: list[Token] = []
    literal: list[str] = []  # source pieces of the literal being collapsed
    depth = 0  # f-string / t-string nesting
    for info in infos:
        kind = info.type
        if kind in _LITERAL_OPENERS:
            depth += 1
            literal.append(info.string)
            continue
        if depth:
            literal.append(info.string)
            if kind in _LITERAL_CLOSERS:
                depth -= 1
            continue
        if kind == tokenize.STRING:
            literal.append(info.string)
            continue
        if kind in _DROPPED:
            continue
        if kind == tokenize.ERRORTOKEN:
            if info.string.isspace():  # Python <= 3.11 reports stray spaces this way
                continue
            if strict:
                line, column = info.start
                raise TokenizeError(f"unexpected {info.string!r} at line {line}, column {column}")
            literal.clear()  # an unterminated literal: drop it
            break
        if literal:
            tokens.append(Token(STR, "".join(literal)))
            literal.clear()
        tokens.append(_model_token(info))
    if depth and strict:
        raise TokenizeError("unterminated f-string")
    if literal and not depth:
        tokens.append(Token(STR, "".join(literal)))
    return tokens


def _model_token(info: tokenize.TokenInfo) -> Token:
    """The model token of one ``tokenize`` token that is neither a string nor dropped."""
    # >>> assignment: NUMBER -> NUM; NEWLINE, INDENT, DEDENT -> layout tokens; else its own text
    if info.type == tokenize.NUMBER:
        return Token(NUM, info.string)
    if info.type == tokenize.NEWLINE:
        return Token(NEWLINE, "\n")
    if info.type == tokenize.INDENT:
        return Token(INDENT, info.string)
    if info.type == tokenize.DEDENT:
        return Token(DEDENT, "")
    return Token(info.string, info.string)
    # <<< assignment


def tokenize_source(source: str) -> list[Token]:
    """Tokenize complete Python source; raises ``TokenizeError`` if it does not tokenize."""
    try:
        return tokens_from_stream(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise TokenizeError(str(error)) from error


def tokenize_file(path: Path) -> list[Token]:
    """Tokenize a ``.py`` file, honouring its encoding declaration.

    Raises ``TokenizeError`` naming the file when it cannot be read, decoded or tokenized.
    """
    try:
        with tokenize.open(path) as handle:  # reads the PEP 263 coding cookie
            source = handle.read()
        return tokenize_source(source)
    except (OSError, UnicodeDecodeError, SyntaxError, TokenizeError) as error:
        raise TokenizeError(f"{path}: {error}") from error


@dataclass(frozen=True, slots=True)
class Prefix:
    """What the programmer has typed so far, as the completer sees it.

    ``tokens`` is the finished context; ``partial`` the start of a name being typed (``"ra"``
    in ``for i in ra``); ``at_line_start`` true when the cursor sits on a line holding no code
    yet; ``in_literal`` true when the cursor is inside a string or a comment, where code
    completion makes no sense.
    """

    tokens: list[Token]
    partial: str = ""
    at_line_start: bool = False
    in_literal: bool = False


def tokenize_prefix(text: str) -> Prefix:
    """Tokenize the text before the cursor, which may end anywhere (mid-name, mid-bracket).

    Never raises: the tokens before the first problem are kept. The NEWLINE and DEDENT
    tokens that ``tokenize`` invents at the end of the text are dropped (the line is still
    being typed); indentation typed on an otherwise empty last line becomes ``<indent>`` or
    ``<dedent>`` tokens, as it will once the line holds code.
    """
    infos, error = _read_tokens(text)
    infos = _without_invented_end(infos)
    end = _end_position(text)
    last = _last_meaningful(infos)
    in_literal = (
        (last is not None and last.type == tokenize.COMMENT and last.end == end)
        or "string" in error  # an unterminated string (or f-string) at the cursor
        or any(info.type == tokenize.ERRORTOKEN and info.string in ("'", '"') for info in infos)
        or _open_fstrings(infos) > 0
    )
    tokens = tokens_from_stream(infos, strict=False)
    partial = ""
    if not in_literal and last is not None and last.type == tokenize.NAME and last.end == end:
        partial = tokens.pop().text
    last_line = text.rsplit("\n", 1)[-1]
    line_is_empty = not last_line.strip() and (not tokens or tokens[-1].text in LAYOUT)
    at_line_start = not partial and line_is_empty
    if at_line_start and last_line:  # indentation typed; none typed means none chosen yet
        tokens.extend(_typed_indentation(last_line, indent_levels(tokens)))
    return Prefix(tokens, partial, at_line_start=at_line_start, in_literal=in_literal)


def indent_levels(tokens: Iterable[Token]) -> list[int]:
    """The open indentation widths after ``tokens`` (``[0]`` at module level)."""
    levels = [0]
    for token in tokens:
        if token.text == INDENT:
            levels.append(len(token.source.expandtabs(8)))
        elif token.text == DEDENT and len(levels) > 1:
            levels.pop()
    return levels


def _read_tokens(text: str) -> tuple[list[tokenize.TokenInfo], str]:
    """Every token ``tokenize`` yields before it fails, and its error message ("" if none)."""
    infos: list[tokenize.TokenInfo] = []
    try:
        for info in tokenize.generate_tokens(io.StringIO(text).readline):
            infos.append(info)
    except (tokenize.TokenError, SyntaxError) as failure:
        return infos, str(failure)
    return infos, ""


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1])


def _without_invented_end(infos: list[tokenize.TokenInfo]) -> list[tokenize.TokenInfo]:
    """Drop the NEWLINE and DEDENT tokens ``tokenize`` adds when the text ends mid-block."""
    kept = list(infos)
    index = len(kept) - 1
    while index >= 0:
        info = kept[index]
        if info.type in (tokenize.NL, tokenize.ENDMARKER):
            index -= 1
        elif info.type in (tokenize.NEWLINE, tokenize.DEDENT) and info.string == "":
            del kept[index]
            index -= 1
        else:
            break
    return kept


def _last_meaningful(infos: list[tokenize.TokenInfo]) -> tokenize.TokenInfo | None:
    for info in reversed(infos):
        if info.type not in (tokenize.NL, tokenize.ENDMARKER, tokenize.ENCODING):
            return info
    return None


def _open_fstrings(infos: list[tokenize.TokenInfo]) -> int:
    depth = 0
    for info in infos:
        if info.type in _LITERAL_OPENERS:
            depth += 1
        elif info.type in _LITERAL_CLOSERS:
            depth -= 1
    return depth


def _typed_indentation(line: str, levels: list[int]) -> Iterator[Token]:
    """The INDENT or DEDENT tokens that whitespace typed on an empty line will produce."""
    width = len(line.expandtabs(8))
    if width > levels[-1]:
        yield Token(INDENT, line)
        return
    while len(levels) > 1 and width < levels[-1]:
        levels.pop()
        yield Token(DEDENT, "")


def detokenize(tokens: Iterable[str], *, before: Iterable[str] = ()) -> str:
    """Render model tokens as one line of source text, with PEP 8 spacing.

    ``before`` is the context (only its current line matters: it decides the space before
    the first token and whether ``=`` sits inside brackets). Placeholders stay visible
    (``<str>``) to mark where a literal goes; rendering stops at the first layout token.
    """
    state = _LineState()
    for text in before:
        state.push(text)
    pieces: list[str] = []
    for text in tokens:
        if text in LAYOUT:
            break
        if state.space_before(text):
            pieces.append(" ")
        pieces.append(text)
        state.push(text)
    return "".join(pieces)


_OPENING = frozenset({"(", "[", "{"})
_CLOSING = frozenset({")", "]", "}"})
_TIGHT_BEFORE = frozenset({")", "]", "}", ",", ":", ";"})
_UNARY_CANDIDATES = frozenset({"-", "+", "*", "**", "~", "@"})
_VALUE_KEYWORDS = frozenset({"True", "False", "None"})


def _is_keyword(text: str) -> bool:
    return keyword.iskeyword(text) and text not in _VALUE_KEYWORDS


def _ends_operand(text: str) -> bool:
    """True if ``text`` can end an operand (then ``-`` after it is binary, ``(`` a call)."""
    if text in _CLOSING or text in PLACEHOLDERS or text in _VALUE_KEYWORDS:
        return True
    return text.isidentifier() and not keyword.iskeyword(text)


class _LineState:
    """Brackets and the previous token of the line being rendered."""

    def __init__(self) -> None:
        self.brackets: list[str] = []
        self.previous: str | None = None
        self.previous_unary = False

    def reset(self) -> None:
        """A new line: no bracket open, no previous token."""
        self.brackets.clear()
        self.previous = None
        self.previous_unary = False

    def push(self, text: str) -> None:
        if text in LAYOUT:
            self.reset()
            return
        self.previous_unary = text in _UNARY_CANDIDATES and (
            self.previous is None or not _ends_operand(self.previous)
        )
        if text in _OPENING:
            self.brackets.append(text)
        elif text in _CLOSING and self.brackets:
            self.brackets.pop()
        self.previous = text

    def space_before(self, text: str) -> bool:
        previous = self.previous
        if previous is None or self.previous_unary:
            return False
        if text in _TIGHT_BEFORE or previous in _OPENING:
            return False
        if text == "." or previous == ".":
            return _is_keyword(previous) or _is_keyword(text)  # "from . import x"
        if text in _OPENING - {"{"} and _ends_operand(previous):
            return False  # a call or a subscript
        innermost = self.brackets[-1] if self.brackets else None
        if "=" in (previous, text):
            return innermost != "("  # keyword arguments hug their values
        if previous == ":":
            return innermost != "["  # slices are tight
        return True
