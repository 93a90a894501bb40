"""Instructor tests for ``TextCNN.forward``: exact logits against a window-by-window reference."""

import torch

from {{ cookiecutter.package_name }}.model import TextCNN

KERNELS = (2, 3, 5)


def reference_logits(model: TextCNN, doc: list[int]) -> torch.Tensor:
    """The logits of one unpadded document, computed window by window from the weights."""
    emb = model.embedding.weight
    features = []
    for conv in model.convs:
        assert isinstance(conv, torch.nn.Conv1d) and conv.bias is not None
        weight, bias = conv.weight, conv.bias  # [kernels, embed, k], [kernels]
        k = weight.shape[2]
        ids = doc + [0] * max(0, k - len(doc))  # a short document: one window, zero-padded
        windows = []
        for start in range(max(len(doc) - k + 1, 1)):
            window = emb[ids[start : start + k]]  # [k, embed]
            windows.append((weight * window.T).sum(dim=(1, 2)) + bias)
        features.append(torch.stack(windows).max(dim=0).values.clamp(min=0))
    logits: torch.Tensor = model.linear(torch.cat(features))
    return logits


def padded(docs: list[list[int]], width: int) -> torch.Tensor:
    return torch.tensor([doc + [0] * (width - len(doc)) for doc in docs])


@torch.no_grad()
def test_forward_matches_the_reference_for_any_length_and_padding():
    torch.manual_seed(3)
    model = TextCNN(vocab_size=30, num_labels=4, embed_dim=6, kernel_sizes=KERNELS, num_kernels=5)
    model.eval()
    gen = torch.Generator().manual_seed(7)
    docs = [torch.randint(1, 30, (n,), generator=gen).tolist() for n in (1, 2, 4, 5, 9, 12)]
    expected = torch.stack([reference_logits(model, doc) for doc in docs])
    for width in (12, 17):
        got = model(padded(docs, width))
        assert got.shape == (len(docs), 4)
        assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
    for doc, row in zip(docs, expected, strict=True):  # each alone, at its own length
        assert torch.allclose(model(torch.tensor([doc]))[0], row, atol=1e-5)


@torch.no_grad()
def test_forward_applies_relu_after_pooling_and_dropout_in_training():
    torch.manual_seed(0)
    model = TextCNN(vocab_size=30, num_labels=3, embed_dim=6, kernel_sizes=KERNELS, num_kernels=8)
    for conv in model.convs:
        assert isinstance(conv, torch.nn.Conv1d) and conv.bias is not None
        conv.bias.fill_(-1e3)  # every window negative: ReLU leaves only the linear bias
    tokens = torch.randint(1, 30, (4, 10))
    model.eval()
    assert torch.allclose(model(tokens), model.linear.bias.expand(4, 3), atol=1e-5)

    model = TextCNN(vocab_size=30, num_labels=3, embed_dim=6, num_kernels=32, dropout=0.5)
    model.eval()
    first = model(tokens)
    assert torch.equal(first, model(tokens))  # no dropout at evaluation
    model.train()
    assert not torch.allclose(model(tokens), first)  # dropout while training
