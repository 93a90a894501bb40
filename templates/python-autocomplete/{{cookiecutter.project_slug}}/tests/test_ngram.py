from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.ngram import BASELINE_ORDERS, NGramModel, fit_baselines


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
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel().probability([1, 2], 3, vocab_size=10)


STREAM = [2, 3, 4, 2, 3, 5, 2, 3, 4, 6, 2, 3, 4]


@pytest.mark.parametrize("order", [1, 2, 4])
@pytest.mark.parametrize("context", [[], [3], [2, 3], [9, 9, 9], [6, 2, 3]])
def test_probabilities_over_the_vocabulary_sum_to_one(order, context):
    ngram = NGramModel(order=order).fit(STREAM)
    total = sum(ngram.probability(context, token, vocab_size=10) for token in range(10))
    assert total == pytest.approx(1.0)
    assert all(ngram.probability(context, token, vocab_size=10) > 0 for token in range(10))


def test_witten_bell_interpolates_each_order_with_the_one_below():
    ngram = NGramModel(order=2).fit(STREAM)
    # unigram level: 13 tokens, 5 distinct, token 4 seen 3 times, uniform below over 10 ids
    unigram = (3 + 5 * 0.1) / (13 + 5)
    # after 3: seen 4 times, followed by 4 (3 times) and 5 (once): 2 distinct followers
    assert ngram.probability([3], 4, vocab_size=10) == pytest.approx((3 + 2 * unigram) / (4 + 2))
    # an unseen context passes the lower order on unchanged
    assert ngram.probability([9], 4, vocab_size=10) == pytest.approx(unigram)


def test_more_context_lowers_the_held_out_loss_of_a_patterned_stream():
    train, heldout = [2, 3, 4, 5] * 50, [2, 3, 4, 5] * 10
    losses = [NGramModel(order=n).fit(train).cross_entropy(heldout, 10) for n in (1, 2, 4)]
    assert losses[0] > 1.0 > losses[1] and losses[2] <= losses[1]


def test_a_lower_order_read_from_a_fitted_4_gram_is_that_order_fitted_alone():
    full = NGramModel(order=4).fit(STREAM)
    for order in (1, 2, 3):
        alone = NGramModel(order=order).fit(STREAM)
        lower = full.with_order(order)
        for context in ([], [3], [2, 3], [4, 2, 3]):
            assert lower.rank(context) == alone.rank(context)
            assert lower.probability(context, 4, 10) == pytest.approx(
                alone.probability(context, 4, 10)
            )
    baselines = fit_baselines(STREAM)
    assert {name: model.order for name, model in baselines.items()} == BASELINE_ORDERS
