"""Full-text search over the stored mentions, on SQLite (FTS5) and PostgreSQL (tsvector): words, phrases and
prefixes in any case, filters, pages, cleared posts never found, and no input that is a syntax error."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.store.schema import mentions
from monitor.store.search import MentionSearch, SearchFilters, fts5_query, parse_query

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POSTS = [  # (brand, text, complaint, days after T0)
    ("Pixelcart", "Still waiting for my REFUND after three weeks", True, 0),
    ("Pixelcart", "refunded at last, thanks pixelcart", False, 1),
    ("Pixelcart", "the late delivery ruined the party", True, 2),
    ("Northwind Air", "northwind lost my bag, delivery of it is late too", True, 3),
    ("Pixelcart", "Café au lait and a pixelcart order, perfect Sunday", False, 4),
    ("Pixelcart", "refund refund refund!!! @pixelcart", True, 5),
]


def store_posts(store, posts=POSTS) -> list[int]:
    rows = [{"source": "feed", "external_id": f"p{i}", "brand": brand, "author": f"user{i}", "author_reach": 1,
             "url": None, "text": text, "language": None, "created_at": T0 + timedelta(days=days),
             "fetched_at": T0, "compound": 0.0, "positive": 0.0, "neutral": 1.0, "negative": 0.0,
             "is_complaint": complaint, "confidence": 0.5, "reasons": [], "topic": "other", "priority": 1.0}
            for i, (brand, text, complaint, days) in enumerate(posts)]
    with store.db.engine.begin() as conn:
        conn.execute(sa.insert(mentions), rows)
        ids = list(conn.execute(sa.select(mentions.c.id).order_by(mentions.c.id)).scalars())
    return ids


def found(store, query: str, **filters) -> list[int]:
    page = MentionSearch(store.db).search(query, SearchFilters(**filters), limit=50)
    return [row["id"] for row in page.rows]


def test_words_phrases_and_prefixes_in_any_case(store):
    ids = store_posts(store)
    assert found(store, "refund") == [ids[5], ids[0]]                 # newest first; "refunded" is another word
    assert found(store, "refund*") == [ids[5], ids[1], ids[0]]
    assert found(store, '"late delivery"') == [ids[2]]                # the phrase, not both words anywhere
    assert found(store, "late delivery") == [ids[3], ids[2]]          # every word, in any order
    assert found(store, "PIXELCART refund") == [ids[5]]               # "@pixelcart" is the word pixelcart
    assert found(store, "nothing-like-this") == []


def test_filters_narrow_the_hits(store):
    ids = store_posts(store)
    assert found(store, "delivery", brand="Pixelcart") == [ids[2]]
    assert found(store, "refund*", complaint=False) == [ids[1]]
    assert found(store, "refund*", complaint=True) == [ids[5], ids[0]]
    assert found(store, "refund*", since=T0 + timedelta(days=1), until=T0 + timedelta(days=5)) == [ids[1]]


def test_pages_go_on_from_the_last_row_shown(store):
    ids = store_posts(store, [("Pixelcart", f"pixelcart order {n}", True, n) for n in range(7)])
    search = MentionSearch(store.db)
    first = search.search("order", SearchFilters(), limit=3)
    assert [r["id"] for r in first.rows] == ids[6:3:-1] and first.total == 7 and first.next_before == ids[4]
    second = search.search("order", SearchFilters(), limit=3, before=first.next_before)
    assert [r["id"] for r in second.rows] == ids[3:0:-1] and second.next_before == ids[1]
    last = search.search("order", SearchFilters(), limit=3, before=second.next_before)
    assert [r["id"] for r in last.rows] == [ids[0]] and last.next_before is None


def test_counts_are_exact_or_say_how_far_they_looked(store):
    ids = store_posts(store, [("Pixelcart" if n % 2 else "Northwind Air", f"pixelcart order {n}", True, n)
                              for n in range(9)])
    exact = MentionSearch(store.db).search("order", SearchFilters(brand="Pixelcart"), limit=2)
    assert (exact.total, exact.exact) == (4, True) and [r["id"] for r in exact.rows] == [ids[7], ids[5]]
    bounded = MentionSearch(store.db, scan_cap=5).search("order", SearchFilters(brand="Pixelcart"), limit=1)
    if store.db.dialect == "sqlite":
        # Looking at the newest 5 posts holding the word only: 2 of them are Pixelcart's; there are older ones.
        assert (bounded.total, bounded.exact) == (2, False)
    else:  # PostgreSQL counts with the filters' own indexes: exact
        assert (bounded.total, bounded.exact) == (4, True)
    small = MentionSearch(store.db, scan_cap=50).search("order", SearchFilters(), limit=3)
    assert (small.total, small.exact) == (9, True)


def test_cleared_and_deleted_posts_are_not_found(store):
    ids = store_posts(store)
    with store.db.engine.begin() as conn:  # what the retention purge and an erasure do to a post
        conn.execute(sa.update(mentions).where(mentions.c.id == ids[0]).values(text="", author="", redacted="expired"))
        conn.execute(sa.delete(mentions).where(mentions.c.id == ids[5]))
        conn.execute(sa.update(mentions).where(mentions.c.id == ids[2]).values(text="edited: fine now"))
    assert found(store, "refund*") == [ids[1]]
    assert found(store, "ruined") == [] and found(store, "edited") == [ids[2]]


@pytest.mark.parametrize("query", ['"', '""', "*", "AND", "OR NOT", "NEAR(a b)", "a:b", "col:text", "(((", "^x",
                                   "-refund", "'; DROP TABLE mentions; --", "refund\x00", "\u202erefund",
                                   "🙂", "x" * 5000])
def test_nothing_typed_is_a_syntax_error(store, query):
    store_posts(store)
    page = MentionSearch(store.db).search(query, SearchFilters())
    assert page.total >= 0
    with store.db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(mentions)).scalar() == len(POSTS)


def test_queries_are_rebuilt_from_words():
    terms = parse_query('"late  Delivery" refund* -x OR')
    assert [(t.words, t.prefix) for t in terms] == [(("late", "delivery"), False), (("refund",), True),
                                                    (("x",), False), (("or",), False)]
    assert fts5_query(parse_query('"late delivery" refund*')) == '"late delivery" "refund"*'
    assert parse_query("!!! ... ???") == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_searches_without_error(tmp_path, text):
    from monitor.store import Store

    path = tmp_path / "fuzz.db"
    store = Store(f"sqlite:///{path}")
    try:
        store.schema.upgrade()
        if not path.with_suffix(".seeded").exists():
            store_posts(store)
            path.with_suffix(".seeded").touch()
        MentionSearch(store.db).search(text, SearchFilters(brand="Pixelcart"))
    finally:
        store.close()
