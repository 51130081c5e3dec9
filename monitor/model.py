"""The records that flow through the pipeline."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MAX_ROW_ID = 2**63 - 1  # the largest id a database row can have: a larger number names nothing
# A post read within this of its publication came in live: only those say how fast alerts are (a backfill's or
# an import's delay says when it ran).
LIVE_READ = timedelta(hours=1)


@dataclass(slots=True)
class RawPost:
    """A post as a connector read it, before the core cleans and checks it."""

    external_id: Any = None
    text: Any = None
    author: Any = None
    author_reach: Any = None
    url: Any = None
    language: Any = None
    created_at: Any = None
    brand: Any = None
    ref: str = ""  # where it came from (file:line, API page) for log lines about it
    in_reply_to: Any = None  # the external id of the post this one answers (same source)
    rating: Any = None  # star rating of a review (app stores), 1-5

    @classmethod
    def from_mapping(cls, data: dict, ref: str = "") -> RawPost:
        """Accepts the field names of the JSON-lines format and common aliases."""
        def pick(*names: str) -> Any:
            for name in names:
                if name in data and data[name] is not None:
                    return data[name]
            return None

        author = pick("author", "username", "user", "screen_name")
        if isinstance(author, dict):
            author = author.get("username") or author.get("name")
        return cls(
            external_id=pick("id", "external_id", "id_str"),
            text=pick("text", "body", "content", "full_text"),
            author=author,
            author_reach=pick("author_reach", "followers", "followers_count", "reach"),
            url=pick("url", "permalink", "link"),
            language=pick("language", "lang"),
            created_at=pick("created_at", "timestamp", "date", "created_utc"),
            brand=pick("brand"),
            ref=ref,
            in_reply_to=pick("in_reply_to", "in_reply_to_id", "in_reply_to_status_id_str"),
        )


@dataclass(slots=True)
class Mention:
    """A cleaned post assigned to one brand."""

    source: str
    external_id: str
    brand: str
    text: str
    author: str
    author_reach: int
    url: str | None
    language: str | None
    created_at: datetime
    fetched_at: datetime
    ref: str = ""
    repairs: list[str] = field(default_factory=list)  # fields that were unusable and replaced, and why
    in_reply_to: str | None = None
    rating: int | None = None  # 1-5 stars when the post is a review


@dataclass(frozen=True, slots=True)
class PublicReply:
    """A brand's own account answering a post publicly: the first response to that post's case."""

    source: str
    in_reply_to: str      # the external id of the answered post
    account: str          # the brand account, e.g. @pixelcarthelp
    at: datetime
    url: str | None
    brands: tuple[str, ...]  # the brands the account speaks for: it answers only their cases


@dataclass(slots=True)
class Score:
    compound: float
    positive: float
    neutral: float
    negative: float
    is_complaint: bool
    confidence: float
    reasons: list[dict]
    topic: str
    priority: float

    def sentiment(self, negative_threshold: float, positive_threshold: float) -> str:
        if self.compound <= negative_threshold:
            return "negative"
        if self.compound >= positive_threshold:
            return "positive"
        return "neutral"


@dataclass(slots=True)
class Batch:
    """Posts from one fetch plus the cursor values that hold once they are stored."""

    posts: list[RawPost]
    cursor: dict[str, str] = field(default_factory=dict)
    rejected: int = 0  # records the connector could not even parse (already logged)
    deleted: list[str] = field(default_factory=list)  # external ids their authors deleted at the source


@dataclass(slots=True)
class Route:
    """Where a complaint's alert goes: a route's name, its sink and the sink's channel."""

    name: str
    sink: str
    channel: str | None


@dataclass(frozen=True, slots=True)
class CaseState:
    """Where a complaint's case stands: what a sink shows next to the alert."""

    id: int
    mention_id: int | None        # the complaint; None for a spike's case
    brand: str
    status: str                      # open | claimed | resolved | dismissed
    opened_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    first_response_by: str | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    public_reply_url: str | None = None  # the brand's public answer, when that was the first response
    burst_id: int | None = None          # set for a spike's case


@dataclass(frozen=True, slots=True)
class CaseAction:
    """An agent's click or command on a case. ``actor``: a Slack user as <@U…>, or a name."""

    case_id: int
    action: str                      # claim | resolve | dismiss | reopen
    actor: str
    origin: str                      # slack | cli | auto
    message_ref: str | None = None   # the message the button was on ("channel:ts"); None from the CLI


@dataclass(frozen=True, slots=True)
class LabelAction:
    """An agent's verdict on a post from a digest button: it is, or is not, a complaint."""

    mention_id: int
    is_complaint: bool
    actor: str
    origin: str                      # slack | cli


@dataclass(frozen=True, slots=True)
class ActionResult:
    changed: bool
    message: str                     # what happened, or why nothing did (shown to the agent)
    case: CaseState | None = None


@dataclass(slots=True)
class Alert:
    """One outbox row ready for a sink: the mention, its score and where it goes."""

    outbox_id: int
    route: str
    channel: str | None
    attempt: int
    mention_id: int
    source: str
    brand: str
    external_id: str
    author: str
    author_reach: int
    url: str | None
    text: str
    created_at: datetime
    compound: float
    confidence: float
    reasons: list[dict]
    topic: str
    priority: float
    sink: str = ""
    thread_ref: str | None = None  # set when the alert belongs to a burst: reply in the spike's thread
    stored_at: datetime | None = None  # when the complaint and its outbox row were stored
    case: CaseState | None = None      # the complaint's case, shown (and worked) beside the alert
    message_ref: str | None = None     # the sink's message, once delivered: what a case update edits

    def reasons_text(self, limit: int = 6) -> str:
        return reasons_text(self.reasons, self.compound, limit)


def reasons_text(reasons: list[dict], compound: float, limit: int = 6) -> str:
    """'waiting ("still no"), no reply ("no response"), VADER -0.42': why a post was flagged."""
    parts = []
    for reason in reasons or []:
        if not isinstance(reason, dict) or reason.get("rule") == "vader":
            continue
        label, match = reason.get("label", reason.get("rule", "")), reason.get("match")
        parts.append(f'{label} ("{match}")' if match else str(label))
    return ", ".join(parts[:limit] + [f"VADER {compound:+.2f}"])


@dataclass(slots=True)
class Spike:
    """A burst of complaints about one brand on one route: summarised once, the rest threaded under it."""

    route: str
    channel: str | None
    brand: str
    complaints: int
    window_minutes: int
    top_topics: list[tuple[str, int]]
    top_posts: list[dict]  # author, author_reach, text, url
    case: CaseState | None = None   # the spike's own case: resolving it resolves the thread's open ones
    message_ref: str | None = None  # once posted: what a case update edits

    @classmethod
    def from_view(cls, view: dict, case: CaseState | None) -> Spike:
        """A posted spike as it stands now, from the burst's live view (BurstRepository.spike)."""
        minutes = max(1, round((view["last_at"] - view["started_at"]).total_seconds() / 60))
        return cls(route=view["route"], channel=view["channel"], brand=view["brand"], complaints=view["complaints"],
                   window_minutes=minutes, top_topics=view["top_topics"], top_posts=view["top_posts"], case=case,
                   message_ref=view["message_ref"])

    def text(self) -> str:
        topics = ", ".join(f"{t} ({n})" for t, n in self.top_topics) or "none"
        return (f"Spike: {self.complaints} complaints about {self.brand} in the last {self.window_minutes} min. "
                f"Top topics: {topics}. Further complaints of this burst follow as replies.")


@dataclass(slots=True)
class Report:
    """A digest for a sink: a title, summary lines, and images (file name, PNG bytes, title)."""

    title: str
    lines: list[str]
    images: list[tuple[str, bytes, str]] = field(default_factory=list)
    channel: str | None = None
    to_label: list[dict] = field(default_factory=list)  # posts worth a verdict: mention_id, text, why

    def text(self) -> str:
        return self.title + "\n" + "\n".join(self.lines)


@dataclass(frozen=True)
class ReplyTarget:
    """The post a reply answers, as stored: which network's post, and its ids there."""

    case_id: int
    mention_id: int
    brand: str
    source: str          # the configured source that read it
    platform: str        # x | reddit | bluesky | mastodon | googleplay | appstore | "" (no write API)
    external_id: str
    url: str | None
    author: str
    text: str


@dataclass(frozen=True)
class SentReply:
    """A reply the network accepted: its id there and where the public can see it."""

    external_id: str
    url: str | None


@dataclass(frozen=True)
class ReplyRequest:
    """An agent's reply to a case's post, from Slack or the CLI. ``text`` or ``template`` says what to post;
    ``reply_id`` acts on a stored draft (approve, reject, edit) instead of a case."""

    case_id: int
    actor: str
    origin: str                      # slack | cli
    action: str = "send"             # send | preview | approve | reject | off_platform
    text: str | None = None
    template: str | None = None
    reply_id: int | None = None
    via: str | None = None           # the sink the agent acts from (it knows the agent's groups)


@dataclass(frozen=True)
class ReplyResult:
    """What became of a reply request, said to the agent: posted (with its link), waiting for an approver,
    previewed, or refused with the network's or the monitor's reason. ``off_platform`` says why it must be
    written in the network's own app; ``link`` and ``draft`` are then what the agent needs there."""

    ok: bool
    message: str
    case: CaseState | None = None
    url: str | None = None
    off_platform: str | None = None
    link: str | None = None
    draft: str | None = None
    reply_id: int | None = None


@dataclass(frozen=True)
class ApprovalRequest:
    """A draft reply waiting in the case's thread for an approver's click."""

    reply_id: int
    case_id: int
    author: str        # who wrote it
    text: str
    account: str       # the brand account it will be posted as
    platform_name: str


@dataclass(frozen=True)
class ReplyForm:
    """Everything an agent sees before sending: the post, where the reply goes and as whom, the limit and
    how it is counted, the saved replies filled in, and why the network cannot take it (if it cannot)."""

    target: ReplyTarget
    platform_name: str
    account: str
    limit: int
    counts: str
    templates: dict[str, str] = field(default_factory=dict)
    off_platform: str | None = None   # why the reply must be written in the network's own app
    needs_approval: bool = False

    def count_line(self, text: str, length: int | None) -> str:
        if self.off_platform or length is None:
            return f"{len(text)} characters"
        left = self.limit - length
        state = f"{-left} over the limit" if left < 0 else f"{left} left"
        return f"{length}/{self.limit} {self.counts} ({state})"
