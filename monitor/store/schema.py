"""Database tables. Portable SQL only: SQLite for the embedded default, PostgreSQL in production."""
from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# SQLite has no 64-bit autoincrement type name of its own; INTEGER PRIMARY KEY is the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


mentions = Table(
    "mentions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("brand", String(128), nullable=False),
    Column("author", String(256), nullable=False, default=""),
    Column("author_reach", BigInteger, nullable=False, default=0),
    Column("url", Text),
    Column("text", Text, nullable=False),
    Column("language", String(16)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("compound", Float, nullable=False),
    Column("positive", Float, nullable=False),
    Column("neutral", Float, nullable=False),
    Column("negative", Float, nullable=False),
    Column("is_complaint", Boolean, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("topic", String(64), nullable=False),
    Column("priority", Float, nullable=False),
    Column("rating", Integer),  # stars of an app-store review, else NULL
    Column("held_back", Boolean),  # a complaint too old to alert when stored (alerts.max_age)
    # Why its text, author and link are gone (deleted | expired | erased); NULL while they are held. The row
    # stays: its scores, topic and time are what digests and trends count.
    Column("redacted", String(16)),
    UniqueConstraint("source", "external_id"),
    Index(None, "brand", "created_at"),
    Index(None, "is_complaint", "created_at"),
    Index(None, "source", "author"),  # an author's other posts, on a case's page
)

cursors = Table(
    "cursors", metadata,
    Column("source", String(64), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A burst: more than N complaints for one brand on one route within a window, posted as one spike
# message with the complaints as replies in its thread.
bursts = Table(
    "bursts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("route", String(128), nullable=False),
    Column("brand", String(128), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Column("message_ref", String(256)),
    Index(None, "route", "brand", "last_at"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mention_id", Id, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("route", String(128), nullable=False),
    Column("sink", String(64), nullable=False),
    Column("channel", String(256)),
    Column("status", String(16), nullable=False, default="pending"),  # pending | sending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("message_ref", String(256)),
    # Set just before a send: a row still 'sending' after a crash may have reached the sink.
    Column("claimed_at", UTCDateTime),
    Column("claimed_by", String(128)),  # the instance sending it
    Column("burst_id", Id, ForeignKey("bursts.id", ondelete="SET NULL")),
    Column("reminded_at", UTCDateTime),  # the route's SLA reminder for this alert was claimed (sent once)
    UniqueConstraint("mention_id", "route"),
    # Claims walk the pending alerts oldest first, skip the ones not due yet and stop after a batch. (An index
    # on (status, next_attempt_at) made SQLite sort every pending row for each batch.)
    Index(None, "status", "id"),
)

digest_runs = Table(
    "digest_runs", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("brand", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("target", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("detail", Text),
    UniqueConstraint("brand", "day", "target"),
)

source_health = Table(
    "source_health", metadata,
    Column("source", String(64), primary_key=True),
    Column("last_success_at", UTCDateTime),
    Column("last_error_at", UTCDateTime),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("posts_read", BigInteger, nullable=False, default=0),
    Column("posts_stored", BigInteger, nullable=False, default=0),
    Column("posts_rejected", BigInteger, nullable=False, default=0),
    Column("paused_until", UTCDateTime),
    Column("unhealthy", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ops_notified", Boolean, nullable=False, default=False),  # the ops channel was told it is failing
)

# Posts and requests per source and calendar month (UTC): paid APIs cap monthly reads.
source_usage = Table(
    "source_usage", metadata,
    Column("source", String(64), primary_key=True),
    Column("period", String(7), primary_key=True),  # YYYY-MM
    Column("posts_read", BigInteger, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Leases with expiry: which instance polls a source right now. A killed instance's lease runs out.
leases = Table(
    "leases", metadata,
    Column("name", String(128), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# A case: one alerted complaint as the support team works it, open -> claimed -> resolved, or dismissed
# (not a complaint), and reopened. One per mention, whatever routes its alerts took; or one per burst, for its
# spike message (mention_id empty, burst_id set).
cases = Table(
    "cases", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mention_id", Id, ForeignKey("mentions.id", ondelete="CASCADE")),
    Column("brand", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # open | claimed | resolved | dismissed
    Column("opened_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(256)),
    Column("claimed_at", UTCDateTime),
    Column("first_response_at", UTCDateTime),   # the first claim or resolution, or the brand's public reply
    Column("first_response_by", String(256)),
    Column("closed_by", String(256)),           # who resolved or dismissed it
    Column("closed_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("public_reply_url", Text),           # the brand's public answer, when that was the first response
    Column("burst_id", Id, ForeignKey("bursts.id", ondelete="CASCADE"), unique=True),
    UniqueConstraint("mention_id"),
    Index(None, "status", "opened_at"),
    Index(None, "brand", "opened_at"),
)

# Every step of every case, append-only: who did what, when, and from where (slack, cli, auto).
case_events = Table(
    "case_events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "case_id", "at"),
)

# The brand's public replies written in the monitor: each row is stored before the network is called (its key
# makes a retry post once), so a crash between the call and the record is reconciled, never posted twice.
replies = Table(
    "replies", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False, unique=True),  # the case and the text: one reply each
    Column("key", String(32), nullable=False, unique=True),          # idempotency key of the current attempt
    # awaiting_approval | sending | sent | failed | rejected | off_platform
    Column("status", String(20), nullable=False),
    Column("author", String(256), nullable=False),                   # who wrote it
    Column("origin", String(16), nullable=False),                    # slack | cli
    Column("approved_by", String(256)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("external_id", String(256)),
    Column("url", Text),
    Column("error", Text),
    Column("message_ref", String(256)),  # the approval request's message ("channel:ts")
    Index(None, "case_id"),
    Index(None, "status"),
)

# Every erasure of an author's data: who asked for it to be run, when, and how many rows it cleared. The
# author is kept only as a keyed hash, so a second request can be matched without storing the name again.
erasures = Table(
    "erasures", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("subject", String(64), nullable=False),   # sha256 of the normalised handle
    Column("source", String(64)),
    Column("counts", JSON, nullable=False),
)

# The team's verdicts on the detector: a dismissed case says "not a complaint", a resolved one "a complaint";
# `monitor label` and `monitor labels import` add more (imports may be bare text, not stored mentions).
# Append-only; the newest label of a mention (or of a text) is the one that counts.
labels = Table(
    "labels", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mention_id", Id, ForeignKey("mentions.id", ondelete="CASCADE")),
    Column("text", Text),          # a bare text's label (mention_id empty)
    Column("brand", String(128)),
    Column("is_complaint", Boolean, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "mention_id", "at"),
)

# What the labelling queue asked about (`monitor labels next`): a "random" pick keeps the labelled set a fair
# sample, for tuning the model's threshold; an "uncertain" one sits near the decision boundary.
label_picks = Table(
    "label_picks", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mention_id", Id, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("confidence", Float, nullable=False),  # the verdict's confidence when it was picked
    Column("picked_at", UTCDateTime, nullable=False),
    Index(None, "mention_id"),
)

# Classifiers learned from the labels: every trained version with its figures; at most one is active, and every
# instance scores with that one.
models = Table(
    "models", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("labels", Integer, nullable=False),          # how many labels it learned from
    Column("last_label_id", Id, nullable=False),        # the newest label it saw: retrain only past it
    Column("rules_f1", Float, nullable=False),
    Column("model_f1", Float, nullable=False),
    Column("figures", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# The web inbox's people: an agent works cases, a viewer only reads. The password is kept as a scrypt hash; a
# run of failed sign-ins locks the name for a while.
users = Table(
    "users", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),       # agent | viewer
    Column("password_hash", String(256), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("last_login_at", UTCDateTime),
)

# Signed-in browsers. Only a hash of the cookie's token is stored, so a copy of the database signs nobody in.
web_sessions = Table(
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "user_id"),
)

# Full-text search over the mentions' text lives outside this metadata, one kind per backend (migration 0015):
# SQLite an FTS5 table kept in step by triggers, PostgreSQL a generated tsvector column with a GIN index.
SEARCH_OBJECTS = frozenset({"mentions_fts", "mentions_fts_data", "mentions_fts_idx", "mentions_fts_docsize",
                            "mentions_fts_config", "mentions_fts_content", "ix_mentions_text_search",
                            "search_vector"})


def declared(name, type_, parent_names) -> bool:
    """For Alembic's comparisons: the search objects are the migration's, not this metadata's."""
    return name not in SEARCH_OBJECTS
