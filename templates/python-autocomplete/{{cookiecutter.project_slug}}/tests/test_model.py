import pytest
import torch

from {{ cookiecutter.package_name }}.model import PRESETS, LSTMLanguageModel, ModelConfig


def small_model(**overrides) -> LSTMLanguageModel:
    torch.manual_seed(0)
    shape = {"vocab_size": 50, "embedding_dim": 8, "hidden_size": 16, "num_layers": 2}
    return LSTMLanguageModel(ModelConfig(**{**shape, **overrides}))


def test_forward_gives_next_token_logits_and_the_lstm_state():
    model = small_model()
    logits, (hidden, cell) = model(torch.randint(0, 50, (3, 7)))
    assert logits.shape == (3, 7, 50)
    assert hidden.shape == cell.shape == (2, 3, 16)


def test_carrying_the_state_equals_reading_the_whole_sequence_at_once():
    model = small_model().eval()
    ids = torch.randint(0, 50, (2, 10))
    whole, _ = model(ids)
    first, state = model(ids[:, :4])
    second, _ = model(ids[:, 4:], state)
    assert torch.allclose(torch.cat([first, second], dim=1), whole, atol=1e-6)


def test_tied_output_weights_are_the_embedding():
    tied, untied = small_model(), small_model(tie_weights=False)
    assert tied.num_parameters() < untied.num_parameters()
    assert untied(torch.zeros(1, 1, dtype=torch.long))[0].shape == (1, 1, 50)
    before = tied(torch.zeros(1, 1, dtype=torch.long))[0].detach().clone()
    with torch.no_grad():
        tied.embedding.weight[7] += 1.0  # changing an embedding changes that token's logit
    after = tied(torch.zeros(1, 1, dtype=torch.long))[0].detach()
    changed = (after != before).squeeze().nonzero().flatten().tolist()
    assert 7 in changed


@pytest.mark.parametrize(("size", "parameters"), [("small", 1_599_496), ("medium", 6_379_536)])
def test_the_presets_have_the_sizes_the_readme_quotes(size, parameters):
    shape = PRESETS[size]
    config = ModelConfig(
        vocab_size=shape["vocab_size"],
        embedding_dim=shape["embedding_dim"],
        hidden_size=shape["hidden_size"],
        num_layers=shape["num_layers"],
    )
    assert LSTMLanguageModel(config).num_parameters() == parameters


def test_gradients_reach_every_parameter():
    model = small_model()
    logits, _ = model(torch.randint(0, 50, (2, 5)))
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
