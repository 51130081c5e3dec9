"""Normalizer and scorer under hostile input: nothing crashes, everything is stored or rejected with a reason."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import BrandConfig
from monitor.model import RawPost
from monitor.pipeline.brands import BrandFilter
from monitor.pipeline.normalize import (
    MAX_TEXT_CHARS,
    TRUNCATION_MARK,
    Rejected,
    clean_text,
    normalize,
    parse_time,
)
from monitor.scoring import ComplaintScorer

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SCORER = ComplaintScorer()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=3000), st.binary(max_size=500), json_values),
       ident=json_values, author=json_values, reach=json_values, url=json_values, created=json_values)
def test_normalize_then_score_never_crashes(text, ident, author, reach, url, created):
    raw = RawPost(external_id=ident, text=text, author=author, author_reach=reach, url=url, created_at=created)
    try:
        mention = normalize(raw, "fuzz", NOW)
    except Rejected as why:
        assert str(why)
        return
    assert mention.text and len(mention.text) <= MAX_TEXT_CHARS + 50
    assert mention.external_id and len(mention.external_id) <= 256
    assert mention.author_reach >= 0
    assert mention.url is None or mention.url.startswith(("http://", "https://"))
    assert mention.created_at <= NOW.replace(minute=5)
    mention.text.encode("utf-8")  # storable
    score = SCORER.score(mention.text, mention.author_reach)
    assert -1 <= score.compound <= 1 and 0 <= score.confidence <= 1 and 0 <= score.priority <= 100


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=400))
def test_scorer_is_total_on_unicode(text):
    score = SCORER.score(text)
    assert isinstance(score.is_complaint, bool)


def test_huge_text_is_truncated_with_mark():
    text = clean_text("still no refund " * 7000)  # ~112 KB
    assert len(text) == MAX_TEXT_CHARS + len(TRUNCATION_MARK)
    assert text.endswith(TRUNCATION_MARK)


def test_binary_garbage_is_rejected():
    with pytest.raises(Rejected, match="not readable"):
        clean_text(bytes(range(128, 256)) * 4)


def test_control_bidi_and_ansi_are_removed():
    text = clean_text("\x1b[31mred\x1b[0m \u202eevil\u202c \x00nul\u0007 ok")
    assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text and "\x07" not in text
    assert "red" in text and "evil" in text


def test_lone_surrogates_become_storable():
    text = clean_text("bad \ud800 surrogate")
    text.encode("utf-8")


@pytest.mark.parametrize("value", ["", "   ", "\n\t", None, 42, ["list"]])
def test_empty_or_non_text_is_rejected(value):
    with pytest.raises(Rejected):
        clean_text(value)


def test_missing_id_gets_stable_content_hash():
    raw = RawPost(text="still no refund", author="ann", created_at="2026-11-20T10:00:00Z")
    a, b = normalize(raw, "s", NOW), normalize(raw, "s", NOW)
    assert a.external_id == b.external_id and a.external_id.startswith("sha256:")


@pytest.mark.parametrize("url, kept", [
    ("javascript:alert(1)", None),
    ("data:text/html,<b>hi</b>", None),
    ("HTTPS://Example.com/p/1", "HTTPS://Example.com/p/1"),  # the scheme is case-insensitive
    ("https://example.com/p/1", "https://example.com/p/1"),
    ('https://example.com/"><script>', None),
    ("https://example.com/a b", None),
])
def test_only_web_links_are_kept(url, kept):
    raw = RawPost(external_id="1", text="x", url=url)
    assert normalize(raw, "s", NOW).url == kept


@pytest.mark.parametrize("author, brands", [("PixelcartHelp", ("Pixelcart",)), ("@pixelcarthelp", ("Pixelcart",)),
                                            ("pixelcart", ()), ("ann", ())])
def test_own_account_is_recognised_whatever_its_case_or_at_sign(author, brands):
    mention = normalize(RawPost(external_id="1", text="thanks for waiting", author=author), "s", NOW)
    assert BrandFilter(BRANDS).own_account(mention) == brands


def test_an_account_shared_by_two_brands_speaks_for_both():
    shared = [BrandConfig(name="Pixelcart", terms=["pixelcart"], own_accounts=["grouphelp"]),
              BrandConfig(name="Northwind Air", terms=["northwind"], own_accounts=["@GroupHelp", "northwindair"])]
    mention = normalize(RawPost(external_id="1", text="we're on it", author="grouphelp"), "s", NOW)
    assert BrandFilter(shared).own_account(mention) == ("Pixelcart", "Northwind Air")


@pytest.mark.parametrize("value, expected", [
    ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, tzinfo=UTC)),
    (1763632800, datetime(2025, 11, 20, 10, tzinfo=UTC)),
    (1763632800000, datetime(2025, 11, 20, 10, tzinfo=UTC)),
    ("not a date", None),
    ("2999-01-01T00:00:00Z", NOW.replace(minute=5)),
])
def test_parse_time(value, expected):
    assert parse_time(value, NOW) == expected


BRANDS = [BrandConfig(name="Pixelcart", terms=["pixelcart", "@pixelcart"], exclude=["giveaway"],
                      own_accounts=["@PixelcartHelp"]),
          BrandConfig(name="Northwind Air", terms=["northwind"], languages=["en"])]


@pytest.mark.parametrize("text, author, lang, outcome", [
    ("pixelcart lost my parcel", "ann", None, "Pixelcart"),
    ("@Pixelcart help", "ann", None, "Pixelcart"),
    ("#pixelcart fail", "ann", None, None),  # hashtag not configured as a term
    ("pixelcartography is fun", "ann", None, None),
    ("pixelcart GIVEAWAY time", "ann", None, "contains excluded term"),
    ("pixelcart update", "pixelcarthelp", None, "own account"),
    ("northwind late", "bob", "de", "language"),
    ("northwind late", "bob", "en", "Northwind Air"),
])
def test_brand_filter(text, author, lang, outcome):
    mention = normalize(RawPost(external_id="1", text=text, author=author, language=lang), "s", NOW)
    filt = BrandFilter(BRANDS)
    if outcome in ("Pixelcart", "Northwind Air"):
        assert filt.assign(mention).brand == outcome
    else:
        with pytest.raises(Rejected) as why:
            filt.assign(mention)
        assert (outcome or "mentions no configured brand") in str(why.value)


@pytest.mark.parametrize("reach, expected, repaired", [
    (1234, 1234, False), ("56", 56, False), (None, 0, False), ("", 0, False), (0, 0, False),
    (float("inf"), 0, True), ("Infinity", 0, True), (1e400, 0, True), ("1" * 25, 0, True), (-5, 0, True),
    ("lots", 0, True), (True, 0, True), (float("nan"), 0, True), (10**10 + 1, 0, True),
])
def test_implausible_reach_counts_as_unknown_and_says_so(reach, expected, repaired):
    mention = normalize(RawPost(external_id="1", text="pixelcart", author_reach=reach), "s", NOW)
    assert mention.author_reach == expected
    assert mention.repairs == (["implausible author_reach, counted as 0"] if repaired else [])


@pytest.mark.parametrize("created, expected, repair", [
    ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, tzinfo=UTC), None),
    (None, NOW, None),
    ("yesterday", NOW, "unreadable or impossible created_at, used the fetch time"),
    (1e20, NOW, "unreadable or impossible created_at, used the fetch time"),
    (-99999999999, NOW, "unreadable or impossible created_at, used the fetch time"),
    ("1969-07-20T20:17:00Z", NOW, "unreadable or impossible created_at, used the fetch time"),
    ("2999-01-01T00:00:00Z", NOW, "created_at in the future, used the fetch time"),
])
def test_unusable_post_times_become_the_fetch_time_and_say_so(created, expected, repair):
    mention = normalize(RawPost(external_id="1", text="pixelcart", created_at=created), "s", NOW)
    assert mention.created_at == expected
    assert mention.repairs == ([repair] if repair else [])
