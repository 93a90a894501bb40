from pathlib import Path

import pytest

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows this file as tests.samples
from samples import module_source  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }}.checkpoint import save_checkpoint
from {{ cookiecutter.package_name }}.predict import Completer

# The fixture model knows the modules of conftest.module_source by heart.
SOURCE = module_source(3)
BEFORE_DOUBLE = SOURCE[: SOURCE.index("        return self.value * 2")]
INSIDE_METHOD = BEFORE_DOUBLE + "        return "


@pytest.fixture
def completer(trained) -> Completer:
    model, vocab = trained
    return Completer(model, vocab)


def test_complete_returns_the_rest_of_the_line(completer: Completer):
    completion = completer.complete(INSIDE_METHOD)
    assert isinstance(completion, str)
    assert "\n" not in completion
    assert completion == "self.value * <num>"


def test_a_name_being_typed_is_finished_first(completer: Completer):
    assert completer.complete(INSIDE_METHOD + "self.val") == "ue * <num>"  # codespell:ignore ue


def test_a_new_line_after_a_block_opener_starts_indented(completer: Completer):
    assert completer.complete(BEFORE_DOUBLE) == "        return self.value * <num>"


def test_no_completion_inside_a_string_or_a_comment(completer: Completer):
    assert completer.complete(INSIDE_METHOD + "'abc") == ""
    assert completer.complete(INSIDE_METHOD + "x  # why") == ""


def test_a_name_the_vocabulary_cannot_finish_gives_no_completion(completer: Completer):
    assert completer.complete(INSIDE_METHOD + "zzz_unheard_of") == ""


def test_beam_search_completes_the_line_too(completer: Completer):
    assert completer.complete(INSIDE_METHOD, beam_size=4) == "self.value * <num>"
    with pytest.raises(ValueError, match="beam_size"):
        completer.complete(INSIDE_METHOD, beam_size=0)


def test_completions_close_the_brackets_they_open_and_no_more(completer: Completer):
    for beam_size in (1, 4):
        tokens, _ = completer.complete_tokens(["print", "(", "counter", "."], beam_size=beam_size)
        depth = 1  # the "(" of the context
        for text in tokens:
            depth += (text in ("(", "[", "{")) - (text in (")", "]", "}"))
            assert depth >= 0
        assert depth == 0, tokens


def test_completion_tokens_never_hold_layout_or_specials_mid_line(completer: Completer):
    tokens, log_prob = completer.complete_tokens(["x", "=", "os", "."], beam_size=3)
    assert tokens and log_prob <= 0
    assert not {"<pad>", "<unk>", "<indent>", "<dedent>", "<newline>"} & set(tokens)


def test_a_completer_loaded_from_a_checkpoint_completes_the_same(trained, tmp_path: Path):
    model, vocab = trained
    path = save_checkpoint(tmp_path / "model.pt", model, vocab)
    loaded = Completer.from_checkpoint(path)
    assert loaded.complete(INSIDE_METHOD) == Completer(model, vocab).complete(INSIDE_METHOD)
