import pytest

from {{ cookiecutter.package_name }}.ngram import NGramModel


def test_the_most_frequent_follower_of_the_context_ranks_first():
    ids = [5, 6, 7, 5, 6, 7, 5, 6, 8, 9]
    ngram = NGramModel(order=3).fit(ids)
    assert ngram.rank([5, 6])[:2] == [7, 8]


def test_an_unseen_context_backs_off_to_shorter_ones():
    ngram = NGramModel(order=3).fit([5, 6, 7, 5, 6, 7, 9, 9])
    ranked = ngram.rank([9, 6])  # (9, 6) never seen; 6 -> 7 was
    assert ranked[0] == 7
    assert set(ranked) == {5, 6, 7, 9}  # then every token, most frequent first


def test_pad_and_unk_are_never_suggested():
    ngram = NGramModel(order=2).fit([5, 1, 1, 1, 0, 5, 6])
    assert not {0, 1} & set(ngram.rank([5]))


def test_rank_returns_at_most_k_ids():
    ngram = NGramModel(order=2, max_candidates=3).fit(list(range(2, 20)))
    assert len(ngram.rank([4], k=2)) == 2
    assert len(ngram.rank([4])) == 3


def test_rank_needs_fit_first():
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel().rank([1, 2])
