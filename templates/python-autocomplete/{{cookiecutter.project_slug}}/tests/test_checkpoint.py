from pathlib import Path

import pytest
import torch

from {{ cookiecutter.package_name }}.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig
from {{ cookiecutter.package_name }}.vocab import Vocabulary


def test_save_then_load_gives_the_same_model_vocab_and_meta(tmp_path: Path):
    torch.manual_seed(0)
    vocab = Vocabulary.build([["def", "f", "(", ")", ":"]], max_size=10)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 8, 16, num_layers=2, dropout=0.2)).eval()
    path = save_checkpoint(tmp_path / "run" / "model.pt", model, vocab, {"steps": 3})
    loaded = load_checkpoint(path)
    ids = torch.tensor([[2, 3, 4, 5]])
    assert torch.equal(loaded.model(ids)[0], model(ids)[0])
    assert loaded.model.config == model.config
    assert not loaded.model.training
    assert loaded.vocab == vocab
    assert loaded.meta == {"steps": 3}
    assert list(path.parent.iterdir()) == [path]  # nothing staged is left beside it


def test_a_save_that_fails_midway_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    vocab = Vocabulary.build([["x", "=", "<num>"]], max_size=10)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 4, 8, num_layers=1, dropout=0.0))
    path = save_checkpoint(tmp_path / "model.pt", model, vocab, {"steps": 1})
    before = path.read_bytes()

    def disk_full(payload: object, target: Path) -> None:
        Path(target).write_bytes(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(path, model, vocab, {"steps": 2})
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


def test_a_missing_checkpoint_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "model.pt")


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)


def test_a_torch_file_of_another_kind_is_refused(tmp_path: Path):
    path = tmp_path / "weights.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="is not a"):
        load_checkpoint(path)
