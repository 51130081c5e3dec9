"""The sections of config.yaml outside the components: brands, scoring, topics, alerts, delivery,
digest, database, service and logging."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from monitor.config.replies import RepliesConfig
from monitor.config.retention import RetentionConfig
from monitor.config.values import Duration, StrictModel, TimeZoneName
from monitor.config.web import WebConfig
from monitor.ops.redact import redactor


def brand_slug(name: str) -> str:
    """The brand's name as a file and folder name: readable in any script, never a path ("../x" -> "x")."""
    slug = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFKC", name).casefold()).strip("-")[:64].strip("-")
    # A name with no letters or digits at all still needs a stable folder of its own.
    return slug or "brand-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


class BrandConfig(StrictModel):
    name: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1, description="keywords, #hashtags and @handles that mean this brand")
    exclude: list[str] = Field(default_factory=list, description="posts containing any of these are dropped")
    own_accounts: list[str] = Field(default_factory=list, description="the brand's own handles: never alerts")
    languages: list[str] = Field(default_factory=list, description="ISO codes to keep; empty keeps all")

    @field_validator("terms", "exclude", "own_accounts")
    @classmethod
    def _no_blank(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("entries must not be blank")
        return cleaned


class ScoringConfig(StrictModel):
    complaint_threshold: float = Field(0.5, ge=0, le=1, description="complaint confidence needed to alert")
    negative_threshold: float = Field(-0.05, ge=-1, le=1, description="VADER compound at or below: negative")
    positive_threshold: float = Field(0.05, ge=-1, le=1, description="VADER compound at or above: positive")
    extra_terms: dict[str, float] = Field(default_factory=dict, description="extra complaint phrases and weights")
    ignore_terms: list[str] = Field(default_factory=list, description="phrases that never count as complaints")
    reach_cap: int = Field(1_000_000, ge=1, description="reach at which priority stops growing")
    workers: int = Field(0, ge=0, le=64, description="scoring processes for large batches; 0 = one per CPU")
    retrain_after_labels: int = Field(20, ge=1, description="retrain (checked every 10 minutes) once this many "
                                      "labels came in since the last model; also nightly at 03:30 on any new label")

    @model_validator(mode="after")
    def _ordered(self) -> ScoringConfig:
        if self.negative_threshold >= self.positive_threshold:
            raise ValueError("negative_threshold must be below positive_threshold")
        return self


DEFAULT_TOPICS: dict[str, list[str]] = {
    # Ties go to the topic listed first: an outage is usually why a payment or a login failed, so it leads.
    "outage": ["down", "outage", "offline", "not loading", "won't load", "wont load", "503", "500 error",
               "server", "servers", "no signal", "no internet", "connection", "service unavailable"],
    "billing": ["refund", "charged", "charge", "charges", "overcharged", "bill", "billed", "billing", "invoice",
                "payment", "paid", "subscription", "renewal", "fee", "fees", "price", "money", "card", "credit"],
    "delivery": ["delivery", "delivered", "deliver", "shipping", "shipped", "package", "parcel", "courier",
                 "tracking", "driver", "arrived", "arrive", "order", "dispatch", "dispatched", "lost package"],
    "account": ["login", "log in", "logged out", "sign in", "password", "account", "locked out", "hacked",
                "verification", "2fa", "verify"],
    "product quality": ["broken", "defective", "faulty", "damaged", "cracked", "quality", "battery", "screen",
                        "stopped working", "fell apart", "cheap", "wrong size", "wrong item", "crash", "crashes",
                        "crashing", "bug", "buggy", "glitch", "update"],
    "support": ["support", "customer service", "agent", "reply", "response", "respond", "on hold", "hold",
                "call", "chat", "email", "ticket", "rude", "helpline", "dm", "dms", "answer"],
    "travel": ["flight", "delayed", "delay", "luggage", "baggage", "gate", "boarding", "seat", "cancelled flight"],
}


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hhmm(value: str) -> str:
    if not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", value):
        raise ValueError(f"expected a time like 08:30, got {value!r}")
    return value


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


class BusinessHoursConfig(StrictModel):
    timezone: TimeZoneName = Field("UTC", description="IANA timezone of the hours")
    start: str = Field("09:00", description="opening time, HH:MM")
    end: str = Field("17:00", description="closing time, HH:MM")
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], description="open days")

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        return _hhmm(value)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHoursConfig:
        if minutes(self.end) <= minutes(self.start):
            raise ValueError("end must be after start")
        return self


class SlaConfig(StrictModel):
    first_response: Duration = Field(ge=60, description="an open case with no response after this gets one "
                                     "reminder in its thread")
    business_hours: BusinessHoursConfig | None = Field(None, description="count only these hours; none = "
                                                          "around the clock")
    escalate_to: str | None = Field(None, description="also alert this route when the SLA is missed")


class RouteConfig(StrictModel):
    name: str = Field(min_length=1)
    sink: str = Field(min_length=1, description="name of an entry under alerts.sinks")
    channel: str | None = Field(None, description="sink-specific destination, e.g. a Slack channel")
    brands: list[str] = Field(default_factory=list, description="only these brands; empty = all")
    topics: list[str] = Field(default_factory=list, description="only these topics; empty = all")
    min_priority: float = Field(0.0, ge=0, le=100)
    fallback: bool = Field(False, description="used only when no other route matched")
    sla: SlaConfig | None = Field(None, description="first-response target for this route's cases")
    escalation_only: bool = Field(False, description="takes no complaints itself: only escalations from other "
                                  "routes' SLAs")


class OpsConfig(StrictModel):
    sink: str = Field(min_length=1, description="name of an entry under alerts.sinks")
    channel: str | None = Field(None, description="sink-specific destination, e.g. #monitor-ops")
    after_failures: int = Field(3, ge=1, description="consecutive failed polls before a source is reported")


class AlertsConfig(StrictModel):
    sinks: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"console": {}})
    routes: list[RouteConfig] = Field(default_factory=list)
    max_age: Duration = Field(86400.0, ge=0, description="a complaint posted longer ago than this when it is "
                              "stored is kept, scored and counted but not alerted (backfills, imports, catch-up "
                              "after an outage); 0 = alert whatever its age")
    ops: OpsConfig | None = Field(None, description="where failing and recovered sources are reported")


class DeliveryConfig(StrictModel):
    interval: Duration = Field(10.0, ge=0.01, description="retry sweep of the outbox")
    batch_size: int = Field(100, ge=1, le=5000)
    max_attempts: int = Field(15, ge=1, le=100, description="then the alert is dead-lettered (15 attempts with "
                              "the default backoff span 1 to 1.5 hours of sink outage)")
    backoff_base: Duration = Field(2.0, description="first retry delay; doubles per attempt")
    backoff_max: Duration = Field(900.0, description="longest retry delay")
    burst_threshold: int = Field(10, ge=0, description="more complaints than this for one brand on one route "
                                 "within burst_window become one spike message with the rest threaded; 0 = off")
    burst_window: Duration = Field(600.0, ge=1, description="window for burst detection")
    burst_replies: int = Field(20, ge=0, le=1000, description="complaints a burst's thread carries, highest "
                               "priority first; the rest are counted on the spike and listed by monitor cases")
    claim_timeout: Duration = Field(60.0, ge=0, description="an alert claimed longer ago than this by an "
                                    "instance that never finished is checked with the sink and sent again if needed")


class DigestConfig(StrictModel):
    enabled: bool = Field(True, description="run the daily digest job")
    time: str = Field("08:00", description="local time of the daily digest, HH:MM")
    weekly: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None = Field(
        "monday", description="day of the weekly digest (the last 7 days against the 7 before), sent at time; "
                              "null turns it off")
    timezone: TimeZoneName = "UTC"
    brands: list[str] = Field(default_factory=list, description="only these brands; empty = all")
    targets: list[Literal["stdout", "file", "slack"]] = Field(
        default_factory=lambda: ["stdout", "file"], description="where the scheduled digest goes")
    directory: str = Field("data/digests", description="where HTML reports and CSVs are written")
    sink: str | None = Field(None, description="sink for the slack target (a name under alerts.sinks)")
    channel: str | None = Field(None, description="digest channel for the slack target")

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"expected a time like 08:30, got {value!r}")
        return value


SUPPORTED_DATABASES = {"sqlite": None, "postgresql": "pip install 'complaint-monitor[postgres]'"}


class DatabaseConfig(StrictModel):
    url: SecretStr = Field(SecretStr("sqlite:///data/monitor.db"))

    @field_validator("url")
    @classmethod
    def _usable(cls, value: SecretStr) -> SecretStr:
        """Every command checks the URL the same way, before anything connects."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        url = value.get_secret_value()
        redactor.add_url_password(url)  # also when it comes from the file rather than ${DATABASE_URL}
        scheme, _, rest = url.partition("://")
        if "@" in rest.split("/", 1)[0].rpartition("@")[0]:
            raise ValueError("the password holds a raw '@': write it as %40 (percent-encoded)")
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError("not a database URL; expected sqlite:///path/to/file.db or "
                             "postgresql://user@host/database") from None
        backend = parsed.get_backend_name()
        if backend not in SUPPORTED_DATABASES:
            raise ValueError(f"unsupported database {backend!r}; use sqlite or postgresql")
        if backend == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # the driver the store uses
        try:
            parsed.get_dialect().import_dbapi()
        except (NoSuchModuleError, ImportError):
            fix = SUPPORTED_DATABASES[backend] or "reinstall the project"
            if parsed.drivername != "postgresql+psycopg" and backend == "postgresql":
                fix = f"use postgresql:// (psycopg 3: {fix})"
            raise ValueError(f"the {parsed.drivername} driver is not installed: {fix}") from None
        return value


class HttpConfig(StrictModel):
    enabled: bool = Field(False, description="serve /healthz, /readyz and /metrics")
    host: str = Field("127.0.0.1", description="address to bind; 0.0.0.0 exposes it beyond this machine")
    port: int = Field(9464, ge=0, le=65535, description="TCP port (0 picks a free one)")
    idle_timeout: Duration = Field(5.0, gt=0, le=300, description="a connection that starts no request within "
                                   "this is closed")
    request_timeout: Duration = Field(10.0, gt=0, le=300, description="a request must arrive whole (head and "
                                      "body) within this of its first byte, else 408")
    max_connections: int = Field(256, ge=2, le=10_000, description="open connections at most; past it the oldest "
                                 "one not being answered is closed")
    max_connections_per_client: int = Field(32, ge=1, le=10_000, description="open connections from one address "
                                            "at most (a reverse proxy counts as one client)")


class ServiceConfig(StrictModel):
    lease_ttl: Duration = Field(60.0, ge=1, description="how long a source stays with an instance that stopped "
                                "renewing it (a killed instance's sources move on after this)")
    stop_grace: Duration = Field(10.0, ge=0, le=600, description="on SIGTERM, how long jobs in flight may take "
                                 "to finish before the service exits anyway (requests waiting on the network are "
                                 "ended at once; keep it under systemd's TimeoutStopSec)")
    http: HttpConfig = Field(default_factory=HttpConfig)


class LoggingConfig(StrictModel):
    level: str = "INFO"
    json_lines: bool = Field(False, alias="json")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {value!r}")
        return value.upper()


class RootConfig(StrictModel):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    brands: list[BrandConfig] = Field(min_length=1)
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    topics: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_TOPICS))
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    web: WebConfig = Field(default_factory=WebConfig)

    @field_validator("brands")
    @classmethod
    def _unique_brands(cls, brands: list[BrandConfig]) -> list[BrandConfig]:
        names = [b.name.lower() for b in brands]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"brand names must be unique, repeated: {', '.join(dupes)}")
        by_slug: dict[str, str] = {}
        for brand in brands:
            other = by_slug.setdefault(brand_slug(brand.name), brand.name)
            if other != brand.name:
                raise ValueError(f"brands {other!r} and {brand.name!r} would share the digest folder "
                                 f"{brand_slug(brand.name)!r}: rename one")
        return brands
