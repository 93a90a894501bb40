from pathlib import Path

import pytest
import torch

from {{ cookiecutter.package_name }}.data import (
    DEFAULT_SEED,
    DataError,
    SourceFile,
    batchify,
    find_python_files,
    is_heldout,
    load_corpus,
    load_split,
    split_files,
    stdlib_root,
    windows,
)


def test_find_python_files_skips_caches_environments_and_other_files(python_tree: Path):
    names = [source.name for source in find_python_files([python_tree])]
    assert len(names) == 12
    assert names == sorted(names)
    assert "module_0.py" in names and "pkg/module_1.py" in names
    assert not any("ignored" in name for name in names)


def test_max_depth_zero_keeps_only_the_top_folder(python_tree: Path):
    names = [source.name for source in find_python_files([python_tree], max_depth=0)]
    assert names and all("/" not in name for name in names)


def test_a_missing_data_path_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataError, match="does not exist"):
        find_python_files([tmp_path / "nowhere"])


def test_a_folder_without_python_files_is_a_clear_error(tmp_path: Path):
    (tmp_path / "README.md").write_text("# no code here\n", encoding="utf-8")
    with pytest.raises(DataError, match="no .py files"):
        find_python_files([tmp_path])


def test_a_single_file_can_be_the_data(tmp_path: Path):
    path = tmp_path / "one.py"
    path.write_text("x = 1\n", encoding="utf-8")
    assert find_python_files([path]) == [SourceFile(path, "one.py")]


def test_a_data_file_must_be_python(tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="not a .py file"):
        find_python_files([notes])


def test_the_default_data_is_the_standard_library_without_its_test_suites():
    files = find_python_files()
    names = {source.name for source in files}
    assert stdlib_root().is_dir()
    assert {"os.py", "json/decoder.py"} <= names
    assert not any(name.startswith(("test/", "idlelib/idle_test/")) for name in names)


def test_the_split_is_disjoint_and_complete(python_tree: Path):
    files = find_python_files([python_tree])
    train, heldout = split_files(files, heldout_fraction=0.3)
    assert train and heldout
    assert sorted(train + heldout, key=lambda s: s.name) == files
    assert not {s.name for s in train} & {s.name for s in heldout}


def test_a_file_keeps_its_side_when_files_are_added(tmp_path: Path):
    names = [f"module_{index}.py" for index in range(40)]
    before = {name: is_heldout(name, 0.2) for name in names}
    more = names + [f"extra_{index}.py" for index in range(40)]
    train, heldout = split_files([SourceFile(tmp_path / n, n) for n in more], 0.2)
    assert {s.name: False for s in train if s.name in before} | {
        s.name: True for s in heldout if s.name in before
    } == before
    assert 0 < sum(before.values()) < len(names)  # both sides are used


def test_the_split_needs_two_files(tmp_path: Path):
    with pytest.raises(DataError, match="at least 2"):
        split_files([SourceFile(tmp_path / "a.py", "a.py")])


def test_load_corpus_skips_files_that_do_not_tokenize(tmp_path: Path):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("x = 1\n", encoding="utf-8")
    bad.write_text("x = (\n", encoding="utf-8")
    corpus = load_corpus([SourceFile(good, "good.py"), SourceFile(bad, "bad.py")])
    assert corpus.files == ["good.py"] and corpus.skipped == ["bad.py"]
    assert [token.text for token in corpus.tokens] == ["x", "=", "<num>", "<newline>"]


def test_load_corpus_stops_at_the_token_cap(python_tree: Path):
    corpus = load_corpus(find_python_files([python_tree]), max_tokens=50)
    assert len(corpus.tokens) == 50


def test_load_split_gives_train_and_heldout_text(python_tree: Path):
    train, heldout = load_split([python_tree], heldout_fraction=0.25)
    assert train.tokens and heldout.tokens
    assert not set(train.files) & set(heldout.files)


def test_batchify_cuts_contiguous_rows_whose_targets_are_the_next_tokens():
    inputs, targets = batchify(list(range(21)), batch_size=4)
    assert inputs.shape == targets.shape == (4, 5)
    assert torch.equal(targets, inputs + 1)
    assert inputs[1, 0].item() == 5  # row b starts at b * length


def test_batchify_refuses_a_stream_too_short_for_its_rows():
    with pytest.raises(DataError, match="too few"):
        batchify([1, 2, 3], batch_size=4)


def test_windows_cover_every_column_once():
    inputs, targets = batchify(list(range(101)), batch_size=2)
    pieces = list(windows(inputs, targets, seq_len=16))
    assert [piece[0].shape[1] for piece in pieces] == [16, 16, 16, 2]
    assert torch.equal(torch.cat([piece[0] for piece in pieces], dim=1), inputs)


def test_the_seed_decides_the_split_and_the_same_seed_gives_the_same_data(tmp_path: Path):
    files = [SourceFile(tmp_path / f"m{index}.py", f"m{index}.py") for index in range(60)]
    assert split_files(files, 0.3, seed=DEFAULT_SEED) == split_files(files, 0.3, seed=DEFAULT_SEED)
    sides = {seed: split_files(files, 0.3, seed=seed)[1] for seed in (0, 1, 123456)}
    assert len({tuple(s.name for s in heldout) for heldout in sides.values()}) == 3


def test_the_smoke_split_of_the_stdlib_changes_with_the_seed():
    files = find_python_files(max_depth=0)
    assert split_files(files, seed=1)[1] != split_files(files, seed=2)[1]
    assert split_files(files, seed=1) == split_files(files, seed=1)
