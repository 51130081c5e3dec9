"""Configuration: YAML with ``${VAR}`` secrets, validated into typed models.

Every component (source, sink) declares its own pydantic schema; this module
validates the root document and then each component against its schema, and
reports every problem as ``key.path: message`` so the operator can fix the
file without reading a traceback.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitor import registry
from monitor.redact import redactor

DEFAULT_CONFIG_PATH = "config.yaml"
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
SECRET_VAR = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|WEBHOOK|CREDENTIAL|DATABASE_URL|DSN", re.I)


class ConfigError(Exception):
    """A configuration problem, already phrased for the operator."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        lines = [f"configuration error{where}:"] + [f"  {p}" for p in self.problems]
        return "\n".join(lines)


# --- value types -----------------------------------------------------------

_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$|^\d+(?:\.\d+)?$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> float:
    """'90s', '2m', '1.5h', '1h30m', '1d' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise PydanticCustomError("duration", "expected a duration like 2m, got '{value}'", {"value": value})
    if isinstance(value, (int, float)) and value >= 0:
        return float(value)
    text = value.replace(" ", "").lower() if isinstance(value, str) else ""
    if not _DURATION.match(text):
        raise PydanticCustomError("duration", "expected a duration like 2m, got '{value}'", {"value": value})
    return sum(float(n) * _UNIT_SECONDS[unit or None] for n, unit in _DURATION_PART.findall(text))


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError("timezone", "unknown IANA timezone '{value}', e.g. Europe/Berlin", {"value": value})
    return value


TimeZoneName = Annotated[str, BeforeValidator(_check_timezone)]


# --- base models -----------------------------------------------------------


class StrictModel(BaseModel):
    """Rejects unknown keys with a suggestion instead of ignoring typos."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        allowed = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
        unknown = [k for k in data if k not in allowed]
        if unknown:
            key = str(unknown[0])
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(sorted(allowed))}"
            raise PydanticCustomError("unknown_key", "unknown key '{key}'{hint}", {"key": key, "hint": hint})
        return data


class ComponentConfig(StrictModel):
    """Common keys of every source and sink entry."""

    type: Optional[str] = Field(None, description="component type; defaults to the entry's name")
    enabled: bool = Field(True, description="false keeps the entry in the file but never runs it")


class SourceConfig(ComponentConfig):
    interval: Duration = Field(60.0, description="time between polls, e.g. 30s, 2m")
    jitter: Duration = Field(0.0, description="random delay added to each poll so sources spread out")
    batch_size: int = Field(500, ge=1, le=10_000, description="posts stored per transaction")
    monthly_post_budget: int = Field(0, ge=0, description="posts the source may read per calendar month "
                                     "(UTC) before it pauses; 0 = no limit")


class NetworkSourceConfig(SourceConfig):
    api_base_url: Optional[str] = Field(None, description="override the API's base URL (proxies, tests)")
    timeout: Duration = Field(20.0, description="HTTP timeout per request")

    @field_validator("api_base_url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else value


class SinkConfig(ComponentConfig):
    pass


# --- root sections ---------------------------------------------------------


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

    @model_validator(mode="after")
    def _ordered(self) -> "ScoringConfig":
        if self.negative_threshold >= self.positive_threshold:
            raise ValueError("negative_threshold must be below positive_threshold")
        return self


DEFAULT_TOPICS: dict[str, list[str]] = {
    "billing": ["refund", "charged", "charge", "charges", "overcharged", "bill", "billed", "billing", "invoice",
                "payment", "paid", "subscription", "renewal", "fee", "fees", "price", "money", "card", "credit"],
    "delivery": ["delivery", "delivered", "deliver", "shipping", "shipped", "package", "parcel", "courier",
                 "tracking", "driver", "arrived", "arrive", "order", "dispatch", "dispatched", "lost package"],
    "outage": ["down", "outage", "offline", "not loading", "won't load", "wont load", "503", "500 error",
               "server", "servers", "no signal", "no internet", "connection", "service unavailable"],
    "account": ["login", "log in", "logged out", "sign in", "password", "account", "locked out", "hacked",
                "verification", "2fa", "verify"],
    "product quality": ["broken", "defective", "faulty", "damaged", "cracked", "quality", "battery", "screen",
                        "stopped working", "fell apart", "cheap", "wrong size", "wrong item", "crash", "crashes",
                        "crashing", "bug", "buggy", "glitch", "update"],
    "support": ["support", "customer service", "agent", "reply", "response", "respond", "on hold", "hold",
                "call", "chat", "email", "ticket", "rude", "helpline", "dm", "dms", "answer"],
    "travel": ["flight", "delayed", "delay", "luggage", "baggage", "gate", "boarding", "seat", "cancelled flight"],
}


class RouteConfig(StrictModel):
    name: str = Field(min_length=1)
    sink: str = Field(min_length=1, description="name of an entry under alerts.sinks")
    channel: Optional[str] = Field(None, description="sink-specific destination, e.g. a Slack channel")
    brands: list[str] = Field(default_factory=list, description="only these brands; empty = all")
    topics: list[str] = Field(default_factory=list, description="only these topics; empty = all")
    min_priority: float = Field(0.0, ge=0, le=100)
    fallback: bool = Field(False, description="used only when no other route matched")


class OpsConfig(StrictModel):
    sink: str = Field(min_length=1, description="name of an entry under alerts.sinks")
    channel: Optional[str] = Field(None, description="sink-specific destination, e.g. #monitor-ops")
    after_failures: int = Field(3, ge=1, description="consecutive failed polls before a source is reported")


class AlertsConfig(StrictModel):
    sinks: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"console": {}})
    routes: list[RouteConfig] = Field(default_factory=list)
    ops: Optional[OpsConfig] = Field(None, description="where failing and recovered sources are reported")


class DeliveryConfig(StrictModel):
    interval: Duration = Field(10.0, description="retry sweep of the outbox")
    batch_size: int = Field(100, ge=1, le=5000)
    max_attempts: int = Field(15, ge=1, le=100, description="then the alert is dead-lettered (15 attempts with "
                              "the default backoff span 1 to 1.5 hours of sink outage)")
    backoff_base: Duration = Field(2.0, description="first retry delay; doubles per attempt")
    backoff_max: Duration = Field(900.0, description="longest retry delay")
    burst_threshold: int = Field(10, ge=0, description="more complaints than this for one brand on one route "
                                 "within burst_window become one spike message with the rest threaded; 0 = off")
    burst_window: Duration = Field(600.0, ge=1, description="window for burst detection")
    claim_timeout: Duration = Field(60.0, ge=0, description="an alert claimed longer ago than this by an "
                                    "instance that never finished is checked with the sink and sent again if needed")


class DigestConfig(StrictModel):
    enabled: bool = Field(True, description="run the daily digest job")
    time: str = Field("08:00", description="local time of the daily digest, HH:MM")
    timezone: TimeZoneName = "UTC"
    brands: list[str] = Field(default_factory=list, description="only these brands; empty = all")
    targets: list[Literal["stdout", "file", "slack"]] = Field(
        default_factory=lambda: ["stdout", "file"], description="where the scheduled digest goes")
    directory: str = Field("data/digests", description="where HTML reports and CSVs are written")
    sink: Optional[str] = Field(None, description="sink for the slack target (a name under alerts.sinks)")
    channel: Optional[str] = Field(None, description="digest channel for the slack target")

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"expected a time like 08:30, got {value!r}")
        return value


class DatabaseConfig(StrictModel):
    url: SecretStr = Field(SecretStr("sqlite:///data/monitor.db"))


class HttpConfig(StrictModel):
    enabled: bool = Field(False, description="serve /healthz, /readyz and /metrics")
    host: str = Field("127.0.0.1", description="address to bind; 0.0.0.0 exposes it beyond this machine")
    port: int = Field(9464, ge=0, le=65535, description="TCP port (0 picks a free one)")


class ServiceConfig(StrictModel):
    lease_ttl: Duration = Field(60.0, ge=1, description="how long a source stays with an instance that stopped "
                                "renewing it (a killed instance's sources move on after this)")
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

    @field_validator("brands")
    @classmethod
    def _unique_brands(cls, brands: list[BrandConfig]) -> list[BrandConfig]:
        names = [b.name.lower() for b in brands]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"brand names must be unique, repeated: {', '.join(dupes)}")
        return brands


# --- the loaded configuration ----------------------------------------------


@dataclass(frozen=True)
class Component:
    name: str
    type_name: str
    cls: type
    config: ComponentConfig


@dataclass
class Config:
    root: RootConfig
    sources: dict[str, Component]
    sinks: dict[str, Component]
    path: str = ""
    env_missing: list[str] = field(default_factory=list)

    @property
    def brands(self) -> list[BrandConfig]:
        return self.root.brands

    @property
    def database_url(self) -> str:
        return self.root.database.url.get_secret_value()

    def enabled_sources(self) -> dict[str, Component]:
        return {n: c for n, c in self.sources.items() if c.config.enabled}

    def enabled_sinks(self) -> dict[str, Component]:
        return {n: c for n, c in self.sinks.items() if c.config.enabled}

    def routes(self) -> list[RouteConfig]:
        """Configured routes, or one route per enabled sink when none are given."""
        if self.root.alerts.routes:
            return list(self.root.alerts.routes)
        return [RouteConfig(name=name, sink=name) for name in self.enabled_sinks()]


@dataclass
class _EnvRef:
    path: str
    var: str


def _expand_env(node: Any, path: str, missing: list[_EnvRef], environ: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _expand_env(v, f"{path}.{k}" if path else str(k), missing, environ) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, f"{path}[{i}]", missing, environ) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node

    def substitute(match: re.Match) -> str:
        var, default = match.group(1), match.group(2)
        value = environ.get(var)
        if value in (None, "") and default is None:
            missing.append(_EnvRef(path, var))
            return ""
        value = value if value not in (None, "") else default
        if SECRET_VAR.search(var):
            redactor.add(value)
        return value

    expanded = ENV_REF.sub(substitute, node)
    whole = ENV_REF.fullmatch(node.strip())
    if whole and expanded and not SECRET_VAR.search(whole.group(1)):
        # A value that is exactly one reference keeps YAML typing: "${POLL:-30}" -> 30.
        try:
            return yaml.safe_load(expanded)
        except yaml.YAMLError:
            return expanded
    return expanded


def _format_loc(prefix: str, loc: tuple) -> str:
    parts = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def _messages(exc: ValidationError, prefix: str) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "missing":
            msg = "required key is missing"
        loc = tuple(err["loc"])
        if err["type"] == "unknown_key":
            loc += (err["ctx"]["key"],)  # name the offending key itself, not its parent
        out.append(f"{_format_loc(prefix, loc)}: {msg}")
    return out


def _validate_components(section: str, entries: dict[str, dict], reg: registry.Registry) -> tuple[dict, list[str]]:
    components, problems = {}, []
    for name, raw in entries.items():
        path = f"{section}.{name}"
        raw = raw or {}
        if not isinstance(raw, dict):
            problems.append(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
            continue
        type_name = raw.get("type") or name
        try:
            cls = reg.get(type_name)
        except KeyError as exc:
            problems.append(f"{path}.type: {exc.args[0]}")
            continue
        try:
            cfg = cls.config_model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_messages(exc, path))
            continue
        components[name] = Component(name, type_name, cls, cfg)
    return components, problems


def _under_disabled(path: str, raw: dict) -> bool:
    for section_path in ("sources", "alerts.sinks"):
        if path.startswith(section_path + "."):
            name = path[len(section_path) + 1:].split(".")[0].split("[")[0]
            section = raw.get("sources", {}) if section_path == "sources" else raw.get("alerts", {}).get("sinks", {})
            entry = section.get(name) if isinstance(section, dict) else None
            return isinstance(entry, dict) and entry.get("enabled") is False
    return False


def _from_missing(problem: str, missing_paths: set[str]) -> bool:
    """A problem at a missing variable's key, or at its parent (an empty value failing a cross-field check)."""
    path = problem.split(":")[0]
    return path in missing_paths or any(m.startswith(path + ".") for m in missing_paths)


def parse_config(raw: Any, source: str = "", environ: Optional[dict[str, str]] = None) -> Config:
    """Validate a parsed YAML document into a Config, or raise ConfigError."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"(top level): expected a mapping of sections, got {type(raw).__name__}"], source)
    missing: list[_EnvRef] = []
    expanded = _expand_env(raw, "", missing, dict(os.environ if environ is None else environ))
    relevant_missing = [m for m in missing if not _under_disabled(m.path, expanded)]
    problems = [f"{m.path}: environment variable {m.var} is not set" for m in relevant_missing]
    missing_paths = {m.path for m in missing}  # also silences follow-on errors under disabled entries

    try:
        root = RootConfig.model_validate(expanded)
    except ValidationError as exc:
        problems += [p for p in _messages(exc, "") if not _from_missing(p, missing_paths)]
        raise ConfigError(problems, source) from None

    sources, source_problems = _validate_components("sources", root.sources, registry.connectors)
    sinks, sink_problems = _validate_components("alerts.sinks", root.alerts.sinks, registry.sinks)
    problems += [p for p in source_problems + sink_problems if not _from_missing(p, missing_paths)]
    problems += _check_references(root, sinks)
    for name, comp in sources.items():
        if comp.config.enabled:
            problems += comp.cls.check_config(name, comp.config, root.brands)
    if problems:
        raise ConfigError(problems, source)
    return Config(root=root, sources=sources, sinks=sinks, path=source, env_missing=[m.var for m in missing])


def _check_references(root: RootConfig, sinks: dict[str, Component]) -> list[str]:
    problems = []
    brand_names = {b.name for b in root.brands}
    digest = root.digest
    if "slack" in digest.targets and (not digest.sink or digest.sink not in sinks):
        problems.append(f"digest.sink: the slack target needs a sink under alerts.sinks (got {digest.sink!r})")
    for brand in digest.brands:
        if brand not in brand_names:
            problems.append(f"digest.brands: unknown brand {brand!r}")
    ops = root.alerts.ops
    if ops and ops.sink not in sinks:
        problems.append(f"alerts.ops.sink: no sink named {ops.sink!r} under alerts.sinks")
    for i, route in enumerate(root.alerts.routes):
        if route.sink not in sinks:
            problems.append(f"alerts.routes[{i}].sink: no sink named {route.sink!r} under alerts.sinks")
        elif not sinks[route.sink].config.enabled:
            problems.append(f"alerts.routes[{i}].sink: sink {route.sink!r} is disabled")
        for brand in route.brands:
            if brand not in brand_names:
                problems.append(f"alerts.routes[{i}].brands: unknown brand {brand!r}")
        for topic in route.topics:
            if topic not in root.topics and topic != "other":
                problems.append(f"alerts.routes[{i}].topics: unknown topic {topic!r}")
    return problems


def load_config(path: str | os.PathLike = DEFAULT_CONFIG_PATH, environ: Optional[dict[str, str]] = None) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"file not found: {path}"], str(path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read {path}: {exc.strerror}"], str(path)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}invalid YAML: {problem}"], str(path)) from None
    return parse_config(raw, str(path), environ)

