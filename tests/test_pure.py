"""The pure modules: codec, validation, scoring, text."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from persona_memory import codec, scoring, text, validation
from persona_memory.errors import ConfigError, InvalidInputError
from persona_memory.models import Candidate, MemoryType
from persona_memory.vectors import normalize, top_k

# fixed offsets: an aware value comes back with its UTC offset (a zoneinfo name becomes a fixed
# offset, tested in test_memory.py); zoneinfo's DST folds do not compare equal across zones
fixed_offsets = st.builds(
    dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text() | st.datetimes(timezones=st.none() | fixed_offsets) | st.dates() | st.times(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_codec_roundtrips_every_json_value(value: object) -> None:
    assert codec.loads(codec.dumps(value)) == value


def test_codec_keeps_utc_offsets() -> None:
    tz = dt.timezone(dt.timedelta(hours=5, minutes=30))
    value = dt.datetime(2024, 3, 1, 9, 0, tzinfo=tz)
    assert codec.loads(codec.dumps(value)).utcoffset() == dt.timedelta(hours=5, minutes=30)


def test_codec_error_names_the_path() -> None:
    with pytest.raises(InvalidInputError, match=r"data\['a'\]\[1\]"):
        codec.dumps({"a": [1, {2}]})


def test_normalized_content_ignores_case_space_and_final_punctuation() -> None:
    assert validation.content_hash("User hates mornings.") == validation.content_hash("  user HATES\nmornings ")
    assert validation.content_hash("likes cats") != validation.content_hash("likes dogs")


@pytest.mark.parametrize("value", ["2025-01-01", "2025-01-01T10:00:00+02:00", "2025-01-01T08:00:00Z"])
def test_moment_accepts_iso(value: str) -> None:
    assert validation.moment(value, "since").tzinfo is dt.UTC


def test_moment_accepts_ages() -> None:
    now = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    assert validation.moment("7d", "since", now=now) == now - dt.timedelta(days=7)
    assert validation.moment("12h", "since", now=now) == now - dt.timedelta(hours=12)
    assert validation.moment("2w", "since", now=now) == now - dt.timedelta(weeks=2)


@pytest.mark.parametrize("slug", ["ada", "Ada-2", "my_persona.v1", "a" * 64])
def test_good_slugs(slug: str) -> None:
    assert validation.slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "../x", "/etc", "a/b", ".x", "-x", "a..b", "a" * 65, None, "a\x00"])
def test_bad_slugs(slug: object) -> None:
    with pytest.raises(ConfigError):
        validation.slug(slug)


def test_tags_normalise() -> None:
    assert validation.tags("Food, preference,,food") == ("food", "preference")
    with pytest.raises(InvalidInputError):
        validation.tags(["x"] * 0 + [f"t{i}" for i in range(40)])


_ids = itertools.count()


def candidate(importance: float, age_days: float, accesses: int = 0, text_score: float | None = None) -> Candidate:
    return Candidate(f"mem_{next(_ids)}", importance, NOW - age_days * 86400, accesses, text_score)


NOW = 1_750_000_000.0


def test_retention_halves_at_the_half_life() -> None:
    for importance in (0.0, 0.5, 1.0):
        days = scoring.half_life_days(importance)
        assert scoring.retention(importance, days * 86400) == pytest.approx(0.5)
    assert scoring.half_life_days(0.0) == 30 and scoring.half_life_days(1.0) == 480


@given(st.floats(0, 1), st.floats(0, 1), st.floats(1, 3650))
def test_higher_importance_never_decays_faster(a: float, b: float, days: float) -> None:
    low, high = sorted((a, b))
    assert scoring.retention(high, days * 86400) >= scoring.retention(low, days * 86400)


def test_reinforcement_is_small_and_bounded() -> None:
    assert scoring.reinforcement(0) == 1.0
    assert 1.0 < scoring.reinforcement(1) < scoring.reinforcement(10) <= scoring.MAX_REINFORCEMENT
    assert scoring.reinforcement(10**9) == scoring.MAX_REINFORCEMENT


def test_search_weighting_cannot_overturn_a_much_better_match() -> None:
    strong_but_old = candidate(0.0, 3650, text_score=10.0)
    weak_but_core = candidate(1.0, 0, text_score=6.0)
    ranked = scoring.rank_for_search([weak_but_core, strong_but_old], NOW, 10)
    assert ranked[0][0] is strong_but_old
    assert ranked[0][1] >= (1 - scoring.SEARCH_WEIGHT) * ranked[0][2]


def test_search_ignores_candidates_without_a_match() -> None:
    assert scoring.rank_for_search([candidate(1.0, 0)], NOW, 10) == []


def test_fts_terms_drop_stop_words_and_quote() -> None:
    assert text.terms("What does the user like to eat?") == ["user", "like", "eat"]
    assert text.terms("the") == ["the"]
    assert text.fts5_match('say "hi" NEAR(x') == '"say" OR "hi" OR "near" OR "x"'
    assert text.fts5_match("!!!") is None


def test_default_importance_follows_the_faculty_table() -> None:
    from persona_memory.models import DEFAULT_IMPORTANCE

    assert DEFAULT_IMPORTANCE[MemoryType.MILESTONE] >= 0.8
    assert DEFAULT_IMPORTANCE[MemoryType.PERSONAL_FACT] >= 0.8
    assert 0.5 <= DEFAULT_IMPORTANCE[MemoryType.EMOTIONAL_MOMENT] <= 0.7
    assert 0.2 <= DEFAULT_IMPORTANCE[MemoryType.GENERAL] <= 0.4


def test_codec_refuses_absurd_nesting_and_lone_surrogates() -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(InvalidInputError, match="nested more than"):
        codec.dumps(deep)
    with pytest.raises(ValueError, match="nested too deeply"):
        codec.loads("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidInputError, match="not valid Unicode"):
        codec.dumps({"name": "caf\udce9"})
    with pytest.raises(InvalidInputError, match="not valid Unicode"):
        validation.content("caf\udce9")


def test_top_k_orders_and_masks() -> None:
    def unit(*values: float) -> np.ndarray:
        return normalize(np.array(values, dtype=np.float32))

    matrix = np.stack([unit(1, 0), unit(0, 1), unit(1, 1)])
    idx, scores = top_k(matrix, unit(1, 0), 2)
    assert list(idx) == [0, 2] and scores[0] == pytest.approx(1.0)
    idx, _ = top_k(matrix, unit(1, 0), 3, mask=np.array([False, True, True]))
    assert list(idx) == [2, 1]
