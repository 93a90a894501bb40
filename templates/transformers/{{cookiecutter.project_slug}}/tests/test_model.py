"""Tokenizer, tiny model and the save_pretrained / from_pretrained round trip."""

import pytest
import torch
from transformers import BertTokenizer

from {{ cookiecutter.package_name }}.data import (
    LABELS,
    grammar_words,
)
from {{ cookiecutter.package_name }}.errors import (
    StarterError,
)
from {{ cookiecutter.package_name }}.evaluate import (
    predict_logits,
)
from {{ cookiecutter.package_name }}.model import (
    SPECIAL_TOKENS,
    build_tokenizer,
    check_vocabulary,
    load_classifier,
    pick_device,
    tiny_bert,
)

TEXTS = ["the plot was very clever", "i did not enjoy the ending but the cast was superb"]


def test_the_tokenizer_has_a_real_vocabulary(tokenizer):
    assert len(tokenizer) > 5
    assert len(tokenizer) == len(SPECIAL_TOKENS) + len(grammar_words())
    ids = tokenizer("The MOVIE was not good")["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.convert_ids_to_tokens(ids) == [
        "[CLS]",
        "the",
        "movie",
        "was",
        "not",
        "good",
        "[SEP]",
    ]


def test_unknown_words_map_to_unk(tokenizer):
    ids = tokenizer("the zeppelin", add_special_tokens=False)["input_ids"]
    assert ids[1] == tokenizer.unk_token_id


def test_vocab_file_is_ignored_by_transformers_5_and_the_check_catches_it(tmp_path):
    # transformers 5 silently ignores vocab_file=: every word would become [UNK].
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join([*SPECIAL_TOKENS, "movie", "good"]) + "\n")
    with pytest.raises(StarterError, match="vocabulary|UNK"):
        check_vocabulary(BertTokenizer(vocab_file=str(vocab)), ["movie"])


def test_an_empty_vocabulary_is_an_error():
    with pytest.raises(ValueError, match="vocabulary"):
        build_tokenizer(list(SPECIAL_TOKENS))


def test_tiny_bert_is_the_promised_size_and_gives_one_logit_per_label(tokenizer):
    model = tiny_bert(len(tokenizer), max_length=48)
    config = model.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (32, 2, 2)
    assert config.id2label == {0: LABELS[0], 1: LABELS[1]}
    logits = predict_logits(model, tokenizer, TEXTS, max_length=48)
    assert logits.shape == (len(TEXTS), len(LABELS))
    assert torch.isfinite(logits).all()


def test_the_same_seed_gives_the_same_weights(tokenizer):
    first, second = tiny_bert(len(tokenizer), seed=7), tiny_bert(len(tokenizer), seed=7)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_save_and_reload_give_the_same_model_and_tokenizer(tokenizer, untrained_model_dir):
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        path.name for path in untrained_model_dir.iterdir()
    }
    original = tiny_bert(len(tokenizer), max_length=48)  # the fixture saved this seed-0 model
    reloaded, reloaded_tokenizer = load_classifier(untrained_model_dir)
    assert len(reloaded_tokenizer) == len(tokenizer)
    assert reloaded_tokenizer(TEXTS)["input_ids"] == tokenizer(TEXTS)["input_ids"]
    assert reloaded.config.id2label == original.config.id2label
    before = predict_logits(original, tokenizer, TEXTS, max_length=48)
    after = predict_logits(reloaded, reloaded_tokenizer, TEXTS, max_length=48)
    torch.testing.assert_close(after, before)


def test_a_reload_can_ask_for_an_attention_implementation(untrained_model_dir):
    # transformers does not save attn_implementation: the smoke passes it again on reload.
    reloaded, _ = load_classifier(untrained_model_dir, attn_implementation="eager")
    assert reloaded.config._attn_implementation == "eager"
    default, _ = load_classifier(untrained_model_dir)
    assert default.config._attn_implementation != "eager"


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(StarterError, match="download"):
        load_classifier(tmp_path / "no-such-model")
    with pytest.raises(StarterError, match="not in the Hugging Face cache"):
        load_classifier("nobody-here/no-such-model")


def test_pick_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected
    assert pick_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device"):
        pick_device("tpu")
