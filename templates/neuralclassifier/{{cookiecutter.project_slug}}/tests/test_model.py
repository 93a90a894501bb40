"""Shapes and padding behaviour of the two classifiers."""

import torch

from {{ cookiecutter.package_name }}.model import (
    TextCNN,
    TfidfIndex,
    TfidfLogisticRegression,
)


def test_textcnn_shapes_and_short_documents():
    torch.manual_seed(0)
    model = TextCNN(vocab_size=50, num_labels=7, embed_dim=8, kernel_sizes=(2, 3), num_kernels=4)
    assert model(torch.randint(1, 50, (5, 12))).shape == (5, 7)
    assert model(torch.tensor([[3]])).shape == (1, 7)  # shorter than the widest kernel


def test_textcnn_scores_do_not_depend_on_batch_padding():
    torch.manual_seed(0)
    model = TextCNN(vocab_size=50, num_labels=3, embed_dim=8, num_kernels=4).eval()
    doc = torch.tensor([[5, 6, 7, 8, 9]])
    padded = torch.cat([doc, torch.zeros(1, 20, dtype=torch.long)], dim=1)
    with torch.no_grad():
        assert torch.allclose(model(doc), model(padded), atol=1e-6)


def test_textcnn_gradients_reach_embeddings():
    model = TextCNN(vocab_size=20, num_labels=2, embed_dim=4, num_kernels=3)
    loss = torch.nn.BCEWithLogitsLoss()(model(torch.randint(1, 20, (3, 6))), torch.ones(3, 2))
    loss.backward()
    assert model.embedding.weight.grad is not None
    assert model.embedding.weight.grad[0].abs().sum() == 0  # padding row stays fixed


def test_tfidf_rows_are_unit_length_and_ignore_unknown():
    docs = [[2, 2, 3, 1], [3, 4], [0, 1]]
    index = TfidfIndex(docs, vocab_size=5)
    rows = index.rows(docs)
    assert rows[0][0].tolist() == [2, 3]
    assert abs(float(rows[0][1].norm()) - 1.0) < 1e-6
    assert rows[2][0].numel() == 0  # only padding and unknown tokens
    ids, offsets, weights = TfidfIndex.collate(rows)
    assert offsets.tolist() == [0, 2, 4]
    model = TfidfLogisticRegression(vocab_size=5, num_labels=3)
    assert model(ids, offsets, weights).shape == (3, 3)
