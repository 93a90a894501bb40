import io
import sys
import token as token_codes
import tokenize
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import tokenizer
from {{ cookiecutter.package_name }}.tokenizer import (
    DEDENT,
    INDENT,
    NEWLINE,
    NUM,
    STR,
    Token,
    TokenizeError,
    detokenize,
    tokenize_file,
    tokenize_prefix,
    tokenize_source,
    tokens_from_stream,
)


def texts(source: str) -> list[str]:
    return [token.text for token in tokenize_source(source)]


def test_comments_and_blank_lines_are_dropped():
    source = "# header\nx = 1  # one\n\n\n    \ny = x\n"
    assert texts(source) == ["x", "=", NUM, NEWLINE, "y", "=", "x", NEWLINE]


def test_string_and_number_literals_become_placeholders():
    source = 'a = ("s", b"raw", r"\\d", 0x1F, 1.5e3, 2j)\n'
    assert texts(source) == [
        "a", "=", "(", STR, ",", STR, ",", STR, ",", NUM, ",", NUM, ",", NUM, ")", NEWLINE,
    ]  # fmt: skip


def test_a_docstring_is_one_string_placeholder():
    source = 'def f():\n    """Doc\n\n    more doc."""\n    return 1\n'
    assert texts(source) == [
        "def", "f", "(", ")", ":", NEWLINE,
        INDENT, STR, NEWLINE, "return", NUM, NEWLINE, DEDENT,
    ]  # fmt: skip


def test_an_fstring_is_one_placeholder_on_this_python():
    # Python 3.11: one STRING token; 3.12+: FSTRING_START ... FSTRING_END.
    source = "x = f\"a{b!r:>{width}} {'nested'}\" + f'{y}'\n"
    assert texts(source) == ["x", "=", STR, "+", STR, NEWLINE]


def test_adjacent_literals_are_one_placeholder():
    source = 'message = (\n    "one "\n    f"two {x}"\n    "three"\n)\n'
    assert texts(source) == ["message", "=", "(", STR, ")", NEWLINE]


def _info(kind: int, string: str) -> tokenize.TokenInfo:
    return tokenize.TokenInfo(kind, string, (1, 0), (1, 0), "")


# Python 3.12 token codes, or stand-ins on 3.11 (the tokenizer never sees them there).
FSTRING_MIDDLE = getattr(token_codes, "FSTRING_MIDDLE", -11)


def test_the_python_312_fstring_token_stream_collapses_to_one_placeholder():
    stream = [
        _info(tokenize.NAME, "x"),
        _info(tokenize.OP, "="),
        _info(tokenizer.FSTRING_START, 'f"'),
        _info(FSTRING_MIDDLE, "a "),
        _info(tokenize.OP, "{"),
        _info(tokenize.NAME, "b"),
        _info(tokenize.OP, "}"),
        _info(tokenizer.FSTRING_END, '"'),
        _info(tokenize.NEWLINE, "\n"),
        _info(tokenize.ENDMARKER, ""),
    ]
    tokens = tokens_from_stream(stream)
    assert [token.text for token in tokens] == ["x", "=", STR, NEWLINE]
    assert tokens[2].source == 'f"a {b}"'  # approximately what was typed


def test_nested_python_312_fstrings_and_tstrings_collapse_too():
    stream = [
        _info(tokenizer.FSTRING_START, 'f"'),
        _info(tokenize.OP, "{"),
        _info(tokenizer.FSTRING_START, "f'"),
        _info(FSTRING_MIDDLE, "inner"),
        _info(tokenizer.FSTRING_END, "'"),
        _info(tokenize.OP, "}"),
        _info(tokenizer.FSTRING_END, '"'),
        _info(tokenize.OP, "+"),
        _info(tokenizer.TSTRING_START, 't"'),
        _info(tokenizer.TSTRING_END, '"'),
        _info(tokenize.NEWLINE, "\n"),
    ]
    assert [token.text for token in tokens_from_stream(stream)] == [STR, "+", STR, NEWLINE]


def test_an_unterminated_312_fstring_is_an_error_in_strict_mode():
    stream = [_info(tokenizer.FSTRING_START, 'f"'), _info(FSTRING_MIDDLE, "abc")]
    with pytest.raises(TokenizeError, match="unterminated"):
        tokens_from_stream(stream)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 701 f-string tokens need 3.12+")
def test_python_312_really_splits_fstrings_and_they_still_collapse():
    source = 'x = f"a{b}"\n'
    kinds = [info.type for info in tokenize.generate_tokens(io.StringIO(source).readline)]
    assert tokenizer.FSTRING_START in kinds
    assert texts(source) == ["x", "=", STR, NEWLINE]


@pytest.mark.parametrize("source", ["x = (1,\n", "x = 'abc\n", "def f(:\n  return\n pass\n"])
def test_source_that_does_not_tokenize_raises_a_clear_error(source):
    with pytest.raises(TokenizeError):
        tokenize_source(source)


def test_a_file_with_an_encoding_declaration_is_read_in_that_encoding(tmp_path: Path):
    path = tmp_path / "latin.py"
    path.write_bytes("# -*- coding: latin-1 -*-\nname = 'café'\ncafé = 1\n".encode("latin-1"))
    assert [token.text for token in tokenize_file(path)][-4:] == ["café", "=", NUM, NEWLINE]


def test_a_missing_file_raises_an_error_naming_it(tmp_path: Path):
    with pytest.raises(TokenizeError, match="missing.py"):
        tokenize_file(tmp_path / "missing.py")


def test_typed_chars_count_what_a_programmer_types():
    assert Token("self", "self").typed_chars == 4
    assert Token(STR, "'hello'").typed_chars == 7
    assert Token(NEWLINE, "\n").typed_chars == 1
    assert Token(INDENT, "    ").typed_chars == 0


def prefix_texts(text: str) -> list[str]:
    return [token.text for token in tokenize_prefix(text).tokens]


def test_a_prefix_ending_mid_name_keeps_the_name_as_partial():
    prefix = tokenize_prefix("for i in ra")
    assert [token.text for token in prefix.tokens] == ["for", "i", "in"]
    assert prefix.partial == "ra"
    assert not prefix.in_literal and not prefix.at_line_start


def test_a_prefix_inside_open_brackets_keeps_its_tokens():
    prefix = tokenize_prefix("print(os.path.jo")
    assert [token.text for token in prefix.tokens] == ["print", "(", "os", ".", "path", "."]
    assert prefix.partial == "jo"


def test_a_prefix_after_a_space_has_no_partial_and_no_invented_newline():
    assert prefix_texts("x = ") == ["x", "="]
    assert tokenize_prefix("x = ").partial == ""


@pytest.mark.parametrize("text", ["x = 'abc", 'x = """doc', "x = 1  # a comm", 'x = f"a{b'])
def test_a_prefix_inside_a_string_or_comment_is_in_a_literal(text):
    assert tokenize_prefix(text).in_literal


def test_a_prefix_after_a_block_opener_is_at_line_start():
    prefix = tokenize_prefix("def f():\n")
    assert prefix.at_line_start
    assert [token.text for token in prefix.tokens][-2:] == [":", NEWLINE]


def test_indentation_typed_on_an_empty_line_becomes_indent_or_dedent():
    assert prefix_texts("def f():\n    ")[-2:] == [NEWLINE, INDENT]
    assert prefix_texts("class A:\n    def f(self):\n        pass\n    ")[-2:] == [NEWLINE, DEDENT]


def test_the_dedents_tokenize_invents_at_the_end_of_the_text_are_dropped():
    expected = ["if", "x", ":", NEWLINE, INDENT, "y", "=", NUM, NEWLINE]
    assert prefix_texts("if x:\n    y = 1\n") == expected


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["os", ".", "path", ".", "join", "(", STR, ",", "name", ")"], "os.path.join(<str>, name)"),
        (
            ["f", "(", "a", "=", "-", NUM, ",", "*", "args", ",", "**", "kw", ")"],
            "f(a=-<num>, *args, **kw)",
        ),
        (["x", "=", "y", "[", NUM, ":", "-", NUM, "]"], "x = y[<num>:-<num>]"),
        (["def", "f", "(", "x", ":", "int", ")", "->", "None", ":"], "def f(x: int) -> None:"),
        (["return", "{", STR, ":", "-", "x", "}"], "return {<str>: -x}"),
        (["from", ".", "import", "x"], "from . import x"),
        (["@", "property"], "@property"),
        (["if", "not", "(", "a", "or", "b", ")", ":", NEWLINE, "junk"], "if not (a or b):"),
    ],
)
def test_detokenize_spaces_code_the_pep8_way(tokens, expected):
    assert detokenize(tokens) == expected


def test_detokenize_uses_the_context_for_the_first_space():
    assert detokenize(["1", ")"], before=["f", "(", "x", "="]) == "1)"
    assert detokenize(["1"], before=["x", "="]) == " 1"
    assert detokenize(["x"], before=["y", "=", "z", NEWLINE]) == "x"
