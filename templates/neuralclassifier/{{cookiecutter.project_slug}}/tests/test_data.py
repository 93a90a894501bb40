"""The JSON-lines corpus format and its validator."""

import json
import random
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import DEFAULT_SEED, synthetic
from {{ cookiecutter.package_name }}.data import (
    Document,
    FormatError,
    LabelSpace,
    Vocab,
    read_corpus,
    targets,
    tokenize,
    unseen_label_problems,
    validate_file,
    write_corpus,
)
from {{ cookiecutter.package_name }}.synthetic import (
    NEGATION,
    TREE,
    SyntheticSpec,
    make_corpus,
)
from {{ cookiecutter.package_name }}.taxonomy import Taxonomy

GOOD = {"doc_label": ["A--B"], "doc_token": ["x", "y"], "doc_keyword": [], "doc_topic": []}


@pytest.fixture
def taxonomy() -> Taxonomy:
    return Taxonomy.from_labels(["A--B--C", "D--E"])


def write_lines(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "corpus.json"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_synthetic_corpus_is_valid_and_round_trips(small_corpus, tmp_path):
    tax = Taxonomy.read(small_corpus / "taxonomy.tsv")
    for split in ("train", "dev", "test"):
        assert validate_file(small_corpus / f"{split}.json", tax) == []
    docs = read_corpus(small_corpus / "train.json", tax)
    assert len(docs) == 400
    copy = write_corpus(tmp_path / "copy.json", docs)
    assert copy.read_bytes() == (small_corpus / "train.json").read_bytes()
    first = json.loads((small_corpus / "train.json").read_text().splitlines()[0])
    assert list(first) == ["doc_label", "doc_token", "doc_keyword", "doc_topic"]
    assert all("--" in label or label in tax.children("Root") for label in first["doc_label"])


def test_no_synthetic_text_is_in_two_splits():
    corpus = make_corpus(3, SyntheticSpec(n_train=300, n_dev=100, n_test=100))
    texts = [{d.tokens for d in corpus[s]} for s in ("train", "dev", "test")]
    assert sum(map(len, texts)) == 500  # no copies inside a split either
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])


def test_the_label_path_is_in_word_order_and_negation():
    spec = SyntheticSpec(n_train=400, n_dev=1, n_test=1)
    lex = synthetic._lexicon(random.Random(2), spec)  # make_corpus draws its words first
    docs = make_corpus(2, spec)["train"]
    checked = {2: 0, 3: 0}
    for doc in docs:
        tokens = list(doc.tokens)
        for label in doc.labels:
            top, *rest = label.split("--")
            if not rest:
                continue
            # Both actors of the top node are in the text: the words alone do not tell the
            # second level. The one that comes first in "<actor> <word> <actor>" names it.
            first = lex.actor[rest[0]]
            (other,) = (lex.actor[m] for m in TREE[top] if m != rest[0])
            assert tokens[tokens.index(first) + 2] == other, label
            assert tokens[tokens.index(other) - 2] == first, label
            checked[2] += 1
            if len(rest) == 2:
                # Both aspect words too; the leaf's own is plain, its sibling's negated.
                (sibling,) = (x for x in TREE[top][rest[0]] if x != rest[1])
                assert tokens[tokens.index(lex.aspect[sibling]) - 2] == NEGATION, label
                assert tokens[tokens.index(lex.aspect[rest[1]]) - 2] != NEGATION, label
                checked[3] += 1
    assert checked[2] > 200 and checked[3] > 100


def test_seed_picks_the_synthetic_corpus():
    spec = SyntheticSpec(n_train=30, n_dev=10, n_test=10)
    first = make_corpus(5, spec)
    assert make_corpus(5, spec) == first  # same seed, same documents
    other = make_corpus(6, spec)
    assert all(other[split] != first[split] for split in first)
    assert other["train"][0].tokens != first["train"][0].tokens
    assert make_corpus(spec=spec) == make_corpus(DEFAULT_SEED, spec)  # the project's seed


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ("not json", "not valid JSON"),
        (json.dumps([1, 2]), "expected a JSON object"),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "doc_topic"}),
            "missing key 'doc_topic'",
        ),
        (json.dumps({**GOOD, "doc_label": []}), "'doc_label' is empty"),
        (json.dumps({**GOOD, "doc_token": []}), "'doc_token' is empty"),
        (json.dumps({**GOOD, "doc_token": "x y"}), "must be a list of strings"),
        (json.dumps({**GOOD, "doc_label": ["A/B"]}), "joined by '--', not '/'"),
        (json.dumps({**GOOD, "doc_label": ["D--B"]}), "child of 'A'"),
        (json.dumps({**GOOD, "doc_label": ["A--B", "A--B"]}), "listed twice"),
        (json.dumps({**GOOD, "doc_label": ["A---B"]}), "is not in the taxonomy"),
    ],
)
def test_validator_names_file_line_and_problem(tmp_path, taxonomy, record, words):
    path = write_lines(tmp_path, [json.dumps(GOOD), record])
    problems = validate_file(path, taxonomy)
    assert problems, "the bad line was not reported"
    assert all(p.line == 2 for p in problems)
    assert any(words in str(p) for p in problems), [str(p) for p in problems]
    assert str(problems[0]).startswith(f"{path}:2: ")
    with pytest.raises(FormatError, match=f"{path}:2: "):
        read_corpus(path, taxonomy)


def test_validator_without_taxonomy_catches_reused_short_names(tmp_path):
    lines = [
        json.dumps({**GOOD, "doc_label": ["A--X"]}),
        json.dumps({**GOOD, "doc_label": ["B--X"]}),
    ]
    problems = validate_file(write_lines(tmp_path, lines))
    assert len(problems) == 1
    assert "under 'B' here but under 'A' at line 1" in str(problems[0])


def test_empty_file_is_a_problem(tmp_path):
    (tmp_path / "empty.json").write_text("", encoding="utf-8")
    assert "no documents" in str(validate_file(tmp_path / "empty.json")[0])


def test_unseen_labels_are_found(tmp_path):
    train = [Document(labels=("A", "A--B"), tokens=("x",))]
    dev = [Document(labels=("A",), tokens=("y",)), Document(labels=("D",), tokens=("x",))]
    (problem,) = unseen_label_problems(train, dev, tmp_path / "dev.json")
    assert problem.line == 2 and "occurs in train" in problem.message


def test_targets_flat_and_hierarchical():
    labels = ["A--B--C", "D"]
    assert targets(labels, "hierarchical") == {"A", "A--B", "A--B--C", "D"}
    assert targets(labels, "flat") == {"A--B--C", "D"}
    assert targets(["A", "A--B"], "flat") == {"A--B"}
    with pytest.raises(ValueError, match="mode"):
        targets(labels, "tree")


def test_vocab_and_label_space():
    docs = [Document(labels=("A--B",), tokens=("b", "a", "a", "c"))]
    vocab = Vocab.build(docs, min_count=1)
    assert vocab.itos[:4] == ["<pad>", "<unk>", "a", "b"]
    assert vocab.encode(["a", "zzz"], max_len=5) == [2, 1]
    assert Vocab.build(docs, min_count=2).itos == ["<pad>", "<unk>", "a"]
    space = LabelSpace(["A--B--C", "A", "A--B", "D"])
    assert space.labels == ["A", "D", "A--B", "A--B--C"]
    assert sorted(space.parent_child_pairs()) == [(0, 2), (2, 3)]


def test_tokenize():
    assert tokenize("Oil giant Petrobras, 2024!") == ["oil", "giant", "petrobras", "2024"]
    assert tokenize("Oil", lowercase=False) == ["Oil"]
