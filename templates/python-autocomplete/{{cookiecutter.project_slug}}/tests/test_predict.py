import math
from pathlib import Path

import pytest
import torch

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows this file as tests.samples
from samples import module_source  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }}.checkpoint import save_checkpoint
from {{ cookiecutter.package_name }}.predict import Completer
from {{ cookiecutter.package_name }}.tokenizer import tokenize_prefix

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


def line_probability(model, vocab, context: str, line: list[str]) -> float:
    """The model's probability of ``line`` then the line's end after ``context``, read off one
    forward pass (independent of the completer's beam search)."""
    tokens = [token.text for token in tokenize_prefix(context).tokens]
    ids = vocab.encode([*tokens, *line, "<newline>"])
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]))
    log_probs = torch.log_softmax(logits[0], dim=-1)
    steps = range(len(tokens) - 1, len(ids) - 1)
    return math.exp(sum(float(log_probs[step, ids[step + 1]]) for step in steps))


def test_top_k_ranks_the_learned_line_first_with_its_probability(completer: Completer, trained):
    suggestions = completer.top_k(INSIDE_METHOD, 5)
    assert suggestions[0].text == "self.value * <num>"
    assert suggestions[0].text == completer.complete(INSIDE_METHOD, beam_size=5)
    assert 1 < len(suggestions) <= 5 and len({s.text for s in suggestions}) == len(suggestions)
    probabilities = [math.exp(s.log_prob) for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] > 0.5 and sum(probabilities) <= 1 + 1e-6
    # the probability shown is the model's own for the whole line, not a score of the search
    model, vocab = trained
    forward = line_probability(model, vocab, INSIDE_METHOD, ["self", ".", "value", "*", "<num>"])
    assert probabilities[0] == pytest.approx(forward, rel=0.02)


def test_top_k_probabilities_are_given_the_name_being_typed(completer: Completer, trained):
    # the model expects `os` here; typed `se`, its lines through `self` are all that is left
    context = SOURCE[: SOURCE.index("os.path.join(self.value")]
    suggestions = completer.top_k(context + "se", 3)
    model, vocab = trained
    tokens = [*suggestions[0].tokens]
    unconditional = line_probability(model, vocab, context, tokens)
    assert tokens[0].startswith("se") and suggestions[0].text.startswith("lf")
    assert math.exp(suggestions[0].log_prob) > 10 * unconditional
    assert sum(math.exp(s.log_prob) for s in suggestions) <= 1 + 1e-6


def test_top_k_is_empty_in_a_string_and_refuses_k_below_one(completer: Completer):
    assert completer.top_k(INSIDE_METHOD + "'abc", 5) == []
    with pytest.raises(ValueError, match="k must be"):
        completer.top_k(INSIDE_METHOD, 0)
