"""The small interfaces the core knows components by: Connector, Sink and Replier."""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import ClassVar, Protocol

from monitor.config import BrandConfig, SinkConfig, SourceConfig
from monitor.model import (
    ActionResult,
    Alert,
    ApprovalRequest,
    Batch,
    CaseAction,
    LabelAction,
    RawPost,
    ReplyForm,
    ReplyRequest,
    ReplyResult,
    ReplyTarget,
    Report,
    SentReply,
    Spike,
)

#: what a sink calls when an agent acts from it (a case button, a label button); the core applies it
ActionHandler = Callable[[CaseAction | LabelAction], ActionResult]


class ReplyHandler(Protocol):
    """What a sink calls to let agents answer posts in public from it (the core's reply desk)."""

    def form(self, case_id: int) -> ReplyForm | str:
        """What the agent needs to write the reply, or why the case cannot be answered."""

    def count(self, case_id: int, text: str) -> str:
        """The draft's length as the network counts it, against its limit."""

    def handle(self, request: ReplyRequest) -> ReplyResult:
        """Send, preview, approve, reject, or record an answer given off-platform."""

    def draft(self, case_id: int, reply_id: int) -> str | None:
        """The words of a draft that waits for approval (an approver edits them)."""


#: an HTTP endpoint a sink serves on the ops server: (body, headers) -> (status, body, headers)
HttpRoute = Callable[[bytes, dict], "tuple[int, bytes, dict]"]


class SourceError(Exception):
    """A poll failed in a way the connector understands.

    retry_after: seconds before this source may be polled again (rate limits).
    unhealthy: the operator must act (bad credentials, missing access); the
    message names the fix.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, unhealthy: bool = False,
                 notice: bool = False, pause_reason: str = "rate_limit") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.unhealthy = unhealthy
        self.notice = notice or unhealthy  # tell the ops channel now, not after repeated failures
        self.pause_reason = pause_reason  # why retry_after pauses the source (metrics)


class UsageMeter(Protocol):
    """Counts a source's API reads per calendar month and enforces its monthly budget."""

    def used(self) -> int:
        """Posts read this month."""

    def reserve(self, posts: int) -> None:
        """Raise SourceError (paused until next month) if reading ``posts`` more would pass the budget."""

    def add(self, posts: int, requests: int = 1) -> None:
        """Record one API response."""


class _NoMeter:
    def used(self) -> int:
        return 0

    def reserve(self, posts: int) -> None:
        pass

    def add(self, posts: int, requests: int = 1) -> None:
        pass


def load_state(value: str | None) -> dict:
    """A JSON cursor value as a dict; anything unreadable starts the query afresh."""
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def chunked(posts: list[RawPost], cursor: dict[str, str], size: int, rejected: int = 0) -> Iterator[Batch]:
    """Posts of one query as batches of ``size``; the query's cursor moves with the last batch only, so an
    interrupted poll reads the query again rather than skipping what it had not stored."""
    chunks = [posts[i:i + size] for i in range(0, len(posts), size)] or [[]]
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        yield Batch(chunk, cursor if last else {}, rejected if last else 0)


class Connector(ABC):
    """Reads public posts for the configured brands, newest cursor first."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]] = SourceConfig
    #: environment variables the source needs when enabled, shown by check-config
    required_env: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, config: SourceConfig, brands: list[BrandConfig]) -> None:
        self.name = name
        self.config = config
        self.brands = brands
        self.meter: UsageMeter = _NoMeter()  # the service plugs in one backed by the database

    @classmethod
    def check_config(cls, name: str, config: SourceConfig, brands: list[BrandConfig]) -> list[str]:
        """Problems that need the brands to see (e.g. a search query too long); 'key.path: message' each."""
        return []

    @abstractmethod
    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        """Yield batches newer than ``cursor``; each batch's cursor is saved with it."""

    def describe(self) -> str:
        return self.type_name

    def probe(self) -> str | None:
        """One read-only request that proves the credentials and settings work (check-config --probe): what it
        proved, or None when there is nothing remote to check. Raises SourceError saying what fails."""
        return None

    #: ids a deletion check asks about per request; 0: the network offers no lookup (or pushes deletions)
    lookup_batch: ClassVar[int] = 0

    def gone(self, external_ids: list[str]) -> set[str]:
        """Which of these stored posts the network no longer shows (deleted, removed, or their author suspended
        or protected): one lookup of at most ``lookup_batch`` ids, metered like reads. SourceError on failure."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class DeliveryError(Exception):
    """A sink could not deliver. permanent: retrying will not help until someone acts."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Sink(ABC):
    """Delivers one alert; returns the sink's reference to the message it created."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[SinkConfig]] = SinkConfig

    def __init__(self, name: str, config: SinkConfig) -> None:
        self.name = name
        self.config = config
        self.case_link: Callable[[int], str | None] = lambda case_id: None

    def probe(self) -> str | None:
        """One request that posts nothing and proves the credentials work (check-config --probe): what it
        proved, or None when there is nothing remote to check. Raises DeliveryError saying what fails."""
        return None

    @abstractmethod
    def send(self, alert: Alert) -> str | None:
        """Deliver ``alert`` (in the thread of ``alert.thread_ref`` when set) or raise DeliveryError."""

    @abstractmethod
    def notify(self, text: str, channel: str | None) -> str | None:
        """Post a plain notice (ops messages, test alerts) or raise DeliveryError."""

    def send_spike(self, spike: Spike) -> str | None:
        """Post the summary that opens a burst; its reference becomes the replies' thread_ref."""
        return self.notify(spike.text(), spike.channel)

    def send_report(self, report: Report) -> str | None:
        """Post a digest; sinks that cannot show images post the summary text."""
        return self.notify(report.text(), report.channel)

    def show_spike(self, spike: Spike) -> None:
        """Show ``spike.case``'s new state (and the burst's live count) on the posted spike message."""

    def remind(self, alert: Alert, text: str) -> str | None:
        """Post a reminder about a delivered alert (in its thread where the sink has threads)."""
        return self.notify(text, alert.channel)

    def show_case(self, alert: Alert) -> None:
        """Show ``alert.case``'s new state on the delivered message ``alert.message_ref``. Sinks that cannot
        edit a message do nothing."""

    def ask_approval(self, alert: Alert, request: ApprovalRequest) -> str | None:
        """Show a draft reply that waits for an approver under the alert; returns the message's reference.
        Sinks without buttons say how to approve it from the command line."""
        return self.remind(alert, f"Draft reply {request.reply_id} by {request.author}, to be posted as "
                                  f"{request.account}, waits for an approver: {request.text}\nApprove with: monitor "
                                  f"case {request.case_id} approve --as NAME (or reject)")

    def settle_approval(self, message_ref: str, request: ApprovalRequest, outcome: str) -> None:
        """Replace the approval request's buttons with what became of the draft."""

    def member_of(self, user: str, group: str) -> bool:
        """Whether the sink's user ``user`` is in its user group ``group`` (approvers named by group)."""
        return False

    def take_replies(self, handler: ReplyHandler) -> None:
        """Let agents write public replies from this sink (a Reply button and form)."""

    def take_actions(self, handler: ActionHandler) -> None:
        """Let agents act on cases from this sink (buttons); the sink calls ``handler`` for each action."""

    def link_cases(self, link: Callable[[int], str | None]) -> None:
        """``link(case_id)``: the case's page in the web inbox (None without web.base_url), for the messages."""
        self.case_link = link

    def listen(self) -> None:
        """Start receiving agents' actions on the sink's own connection, when it has one (Socket Mode)."""

    def http_routes(self) -> dict[str, HttpRoute]:
        """Endpoints this sink needs on the ops HTTP server (e.g. Slack's interactivity requests)."""
        return {}

    @classmethod
    def summary(cls, config: SinkConfig) -> str:
        """What check-config says about this sink's settings beyond enabled/disabled."""
        return ""

    @classmethod
    def needs_http(cls, config: SinkConfig) -> bool:
        """Whether this configuration needs the ops HTTP server (checked at load)."""
        return False

    def find_delivered(self, alert: Alert, claimed_at) -> str | None:
        """After a crash mid-send: the reference of the message if it did reach the sink, else None.
        Sinks that cannot tell return None and the alert is sent again."""
        return None

    def describe(self, channel: str | None) -> str:
        return self.type_name + (f" -> {channel}" if channel else "")

    def close(self) -> None:
        pass


class AppReviewConnector(Connector):
    """Base of the app-store review sources: each configured app belongs to a brand (reviews rarely name it)
    and is read once per store country, through one HTTP reader."""

    store_name: ClassVar[str]
    default_api: ClassVar[str]

    @classmethod
    def app_id_problem(cls, app_id: str) -> str | None:
        """Why ``app_id`` cannot be an id of this store, or None."""
        return None

    @classmethod
    def check_config(cls, name: str, config: SourceConfig, brands: list[BrandConfig]) -> list[str]:
        from monitor.config.components import review_app_problems

        problems = review_app_problems(name, config.apps, brands)
        for i, app in enumerate(config.apps):
            why = cls.app_id_problem(app.id)
            if why:
                problems.append(f"sources.{name}.apps[{i}].id: {why}, got {app.id!r}")
        return problems

    def __init__(self, name: str, config: SourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        from monitor.http_clients import HttpReader

        self.http = HttpReader(self.store_name, config.api_base_url or self.default_api, config.timeout,
                               config.deadline)

    def describe(self) -> str:
        return f"{self.store_name} reviews of {len(self.config.apps)} app(s)"

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        for app in self.config.apps:
            for country in app.countries:
                yield from self.read_app(app, country, cursor)

    @abstractmethod
    def read_app(self, app, country: str, cursor: dict[str, str]) -> Iterator[Batch]:
        """Batches of the reviews of ``app`` in ``country`` newer than its cursor."""

    @abstractmethod
    def first_page(self, app, country: str) -> list[RawPost]:
        """The newest page of reviews of ``app`` in ``country``: one request."""

    def probe(self) -> str:
        counts = []
        for app in self.config.apps:
            counts.append(f"{app.id} ({len(self.first_page(app, app.countries[0]))} reviews on its first page "
                          f"in {app.countries[0]})")
        return f"{self.store_name} answered for " + ", ".join(counts)

    def close(self) -> None:
        self.http.close()


class ReplyError(Exception):
    """A reply the network did not take. ``off_platform``: this network or account cannot take it at all (no
    write API, no credential, X's rule on who may be answered): the agent answers in the network's app.
    ``unknown``: the call may have reached the network (a timeout): the reply is reconciled, not resent."""

    def __init__(self, message: str, *, off_platform: bool = False, unknown: bool = False) -> None:
        super().__init__(message)
        self.off_platform = off_platform
        self.unknown = unknown


class Replier(ABC):
    """Posts a brand account's public reply on one network, and finds it again after a crash."""

    type_name: ClassVar[str]
    config_model: ClassVar[type]
    #: how the network counts a reply's length, as the agent is told ("characters", "graphemes")
    counts: ClassVar[str] = "characters"

    def __init__(self, config) -> None:
        self.config = config

    @abstractmethod
    def limit(self) -> int:
        """The longest reply the network takes, in its own units (an instance may say its own)."""

    def length(self, text: str) -> int:
        """``text``'s length as the network counts it."""
        return len(text)

    def account(self) -> str:
        """The brand account replies are posted as, as the agent sees it named."""
        return f"{self.config.brand} on {self.type_name}"

    @abstractmethod
    def check(self, target: ReplyTarget) -> None:
        """Raise ReplyError when ``target`` can no longer be answered (deleted, or the network forbids it)."""

    @abstractmethod
    def send(self, target: ReplyTarget, text: str, key: str) -> SentReply:
        """Post ``text`` under ``target`` once; ``key`` is unique to this reply (sent again only after a
        failure). Raise ReplyError with the network's own message when it refuses."""

    @abstractmethod
    def find_sent(self, target: ReplyTarget, text: str, key: str) -> SentReply | None:
        """After a crash between sending and recording: the account's reply with ``text`` (or ``key``) under
        ``target`` if the network has it, else None."""

    def probe(self) -> str:
        """A read-only call that proves the credential works (check-config --probe); ReplyError when not."""
        return "nothing remote to check"

    def close(self) -> None:
        pass
