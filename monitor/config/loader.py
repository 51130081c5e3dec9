"""Configuration: YAML with ``${VAR}`` secrets, validated into typed models.

Every component (source, sink) declares its own pydantic schema; this module
validates the root document and then each component against its schema, and
reports every problem as ``key.path: message`` so the operator can fix the
file without reading a traceback.
"""
from __future__ import annotations

import os
import re
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor import registry
from monitor.config.components import ComponentConfig
from monitor.config.env import EnvRef, expand_env
from monitor.config.secrets import literal_secrets
from monitor.config.sections import BrandConfig, RootConfig, RouteConfig
from monitor.config.yamlfile import YamlProblem, read_yaml_lines

DEFAULT_CONFIG_PATH = "config.yaml"


class ConfigError(Exception):
    """Configuration problems, already phrased for the operator: every one found, each at its key path and,
    read from a file, the line that key is on."""

    def __init__(self, problems: list[str], source: str = "", lines: dict[str, int] | None = None) -> None:
        self.problems = problems
        self.source = source
        self.lines = lines or {}
        super().__init__(self.render())

    def render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        count = f" ({len(self.problems)} problems)" if len(self.problems) > 1 else ""
        return "\n".join([f"configuration error{where}{count}:"] + [f"  {self._at_line(p)}" for p in self.problems])

    def _at_line(self, problem: str) -> str:
        """``path: message`` as ``path (line N): message``, with the line of the path or its nearest parent."""
        path, sep, message = problem.partition(": ")
        key = path
        while key and key not in self.lines:
            key = key.rpartition("[")[0] if key.endswith("]") else key.rpartition(".")[0]
        return f"{path} (line {self.lines[key]}){sep}{message}" if key and sep else problem


@dataclass(frozen=True)
class Component:
    name: str
    type_name: str
    cls: type
    config: ComponentConfig


@dataclass(frozen=True)
class ReplyAccount:
    """One brand account replies are posted as: ``path`` is its place in the file (replies.accounts[i])."""

    path: str
    brand: str
    platform: str
    cls: type
    config: ComponentConfig


@dataclass
class Config:
    root: RootConfig
    sources: dict[str, Component]
    sinks: dict[str, Component]
    path: str = ""
    env_missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # accepted, but worth fixing (secrets in the file)
    env_refs: dict[str, str] = field(default_factory=dict)  # key path -> the environment variable it names
    reply_accounts: list[ReplyAccount] = field(default_factory=list)  # the enabled ones

    def reply_account(self, brand: str, platform: str) -> ReplyAccount | None:
        return next((a for a in self.reply_accounts if a.brand == brand and a.platform == platform), None)

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


def _format_loc(prefix: str, loc: tuple) -> str:
    parts = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def _messages(exc: ValidationError, prefix: str, model: type) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "missing":
            msg = "required key is missing"
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            msg = owner.unknown_key(str(loc[-1])) if owner else f"unknown key {loc[-1]!r}"
        out.append(f"{_format_loc(prefix, loc)}: {msg}")
    return out


def _model_at(model: type, loc: tuple) -> type | None:
    """The config model that the value at ``loc`` (inside ``model``) is validated as, or None."""
    annotation: Any = model
    for item in loc:
        annotation = _unwrap(annotation, item)
        if annotation is None:
            return None
    annotation = _unwrap(annotation, None)
    return annotation if isinstance(annotation, type) and hasattr(annotation, "unknown_key") else None


def _unwrap(annotation: Any, item: Any) -> Any:
    """One step into an annotation: a model's field, a list's item, a dict's value, the model of an Optional."""
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and hasattr(a, "model_fields")]
        return _unwrap(models[0], item) if len(models) == 1 else None
    if item is None:
        return annotation
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        fields = {f.alias or name: f for name, f in annotation.model_fields.items()}
        return fields[item].annotation if item in fields else None
    if origin is list and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


ALL_PARTS = ("sources", "sinks", "replies")
_PART_PATHS = {"sources": "sources", "sinks": "alerts.sinks", "replies": "replies.accounts"}


def _validate_components(section: str, entries: dict[str, dict], reg: registry.Registry) \
        -> tuple[dict, list[str], set[str]]:
    """The valid components, the problems, and the names of entries that did not validate."""
    components, problems, broken = {}, [], set()
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
            broken.add(name)
            continue
        try:
            cfg = cls.config_model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_messages(exc, path, cls.config_model))
            broken.add(name)
            continue
        components[name] = Component(name, type_name, cls, cfg)
    return components, problems, broken


def _not_needed(path: str, needs: tuple[str, ...]) -> bool:
    """A key under a part this command does not run (e.g. the Slack sink for `monitor export`)."""
    return any(path.startswith((_PART_PATHS[part] + ".", _PART_PATHS[part] + "["))
               for part in ALL_PARTS if part not in needs)


def _under_disabled(path: str, raw: dict) -> bool:
    account = re.match(r"replies\.accounts\[(\d+)\]", path)
    if account:
        entries = (raw.get("replies") or {}).get("accounts") if isinstance(raw.get("replies"), dict) else None
        entry = entries[int(account.group(1))] if isinstance(entries, list) and len(entries) > int(
            account.group(1)) else None
        return isinstance(entry, dict) and entry.get("enabled") is False
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


def parse_config(raw: Any, source: str = "", environ: dict[str, str] | None = None,
                 needs: tuple[str, ...] = ALL_PARTS) -> Config:
    """Validate a parsed YAML document into a Config, or raise ConfigError.

    ``needs`` names the parts the command will run ("sources", "sinks"): a secret missing from a part it
    does not run is no error there, and that component is left out of the Config."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"(top level): expected a mapping of sections, got {type(raw).__name__}"], source)
    missing: list[EnvRef] = []
    used: list[EnvRef] = []
    expanded = expand_env(raw, "", missing, dict(os.environ if environ is None else environ), used)
    relevant_missing = [m for m in missing if not _under_disabled(m.path, expanded)
                        and not _not_needed(m.path, needs)]
    problems = [f"{m.path}: environment variable {m.var} is not set" for m in relevant_missing]
    missing_paths = {m.path for m in missing}  # also silences follow-on errors under disabled entries

    try:
        root = RootConfig.model_validate(expanded)
    except ValidationError as exc:
        problems += [p for p in _messages(exc, "", RootConfig) if not _from_missing(p, missing_paths)]
        problems += [p for p in _component_problems(expanded) if not _from_missing(p, missing_paths)]
        raise ConfigError(problems, source) from None

    sources, source_problems, _ = _validate_components("sources", root.sources, registry.connectors)
    sinks, sink_problems, broken_sinks = _validate_components("alerts.sinks", root.alerts.sinks, registry.sinks)
    accounts, account_problems = _validate_accounts(root.replies.accounts, {b.name for b in root.brands})
    problems += [p for p in source_problems + sink_problems + account_problems
                 if not _from_missing(p, missing_paths)]
    problems += _check_references(root, sinks, broken_sinks)
    problems += [f"alerts.sinks.{name}: it needs the ops HTTP server: set service.http.enabled: true"
                 for name, comp in sinks.items()
                 if comp.config.enabled and comp.cls.needs_http(comp.config) and not root.service.http.enabled]
    for name, comp in sources.items():
        if comp.config.enabled:
            problems += comp.cls.check_config(name, comp.config, root.brands)
    if problems:
        raise ConfigError(problems, source)
    return Config(root=root, sources=sources, sinks=sinks, path=source, env_missing=[m.var for m in missing],
                  warnings=literal_secrets(raw, sources, sinks), env_refs={u.path: u.var for u in used},
                  reply_accounts=[a for a in accounts if a.config.enabled and not any(
                      m.path.startswith(a.path + ".") for m in missing)])


def _validate_accounts(entries: list[dict], brands: set[str]) -> tuple[list[ReplyAccount], list[str]]:
    """Each reply account against its platform's schema; one account per brand and platform."""
    accounts, problems, seen = [], [], set()
    for i, raw in enumerate(entries):
        path = f"replies.accounts[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
            continue
        try:
            cls = registry.repliers.get(str(raw.get("platform")))
        except KeyError as exc:
            problems.append(f"{path}.platform: {exc.args[0]}")
            continue
        try:
            cfg = cls.config_model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_messages(exc, path, cls.config_model))
            continue
        if cfg.brand not in brands:
            problems.append(f"{path}.brand: {cfg.brand!r} is not a configured brand ({', '.join(sorted(brands))})")
        elif cfg.enabled and (cfg.brand, cfg.platform) in seen:
            problems.append(f"{path}: {cfg.brand} already has a {cfg.platform} account above; one per brand and "
                            "platform")
        seen.add((cfg.brand, cfg.platform)) if cfg.enabled else None
        accounts.append(ReplyAccount(path, cfg.brand, cfg.platform, cls, cfg))
    return accounts, problems


def _component_problems(expanded: dict) -> list[str]:
    """The sources' and sinks' own problems, found even when the rest of the file failed: every error at once."""
    sources = expanded.get("sources")
    alerts = expanded.get("alerts")
    sinks = alerts.get("sinks") if isinstance(alerts, dict) else None
    problems = []
    for section, entries, reg in (("sources", sources, registry.connectors),
                                  ("alerts.sinks", sinks, registry.sinks)):
        if isinstance(entries, dict):
            problems += _validate_components(section, entries, reg)[1]
    return problems


def _check_references(root: RootConfig, sinks: dict[str, Component], broken: set[str]) -> list[str]:
    """Names that point nowhere. A sink that failed its own validation is reported there, not again here."""
    problems = []
    brand_names = {b.name for b in root.brands}
    known = set(sinks) | broken
    digest = root.digest
    if "slack" in digest.targets and (not digest.sink or digest.sink not in known):
        problems.append(f"digest.sink: the slack target needs a sink under alerts.sinks (got {digest.sink!r})")
    for brand in digest.brands:
        if brand not in brand_names:
            problems.append(f"digest.brands: unknown brand {brand!r}")
    ops = root.alerts.ops
    if ops and ops.sink not in known:
        problems.append(f"alerts.ops.sink: no sink named {ops.sink!r} under alerts.sinks")
    for i, route in enumerate(root.alerts.routes):
        if route.sink not in known:
            problems.append(f"alerts.routes[{i}].sink: no sink named {route.sink!r} under alerts.sinks")
        elif route.sink in sinks and not sinks[route.sink].config.enabled:
            problems.append(f"alerts.routes[{i}].sink: sink {route.sink!r} is disabled")
        for brand in route.brands:
            if brand not in brand_names:
                problems.append(f"alerts.routes[{i}].brands: unknown brand {brand!r}")
        for topic in route.topics:
            if topic not in root.topics and topic != "other":
                problems.append(f"alerts.routes[{i}].topics: unknown topic {topic!r}")
        target = route.sla.escalate_to if route.sla else None
        if target and (target == route.name or target not in {r.name for r in root.alerts.routes}):
            problems.append(f"alerts.routes[{i}].sla.escalate_to: no other route named {target!r}")
    return problems


def load_config(path: str | os.PathLike = DEFAULT_CONFIG_PATH, environ: dict[str, str] | None = None,
                needs: tuple[str, ...] = ALL_PARTS) -> Config:
    path = Path(path)
    try:
        raw, lines = read_yaml_lines(path)
    except YamlProblem as exc:
        raise ConfigError([str(exc)], str(path)) from None
    try:
        return parse_config(raw, str(path), environ, needs)
    except ConfigError as exc:
        raise ConfigError(exc.problems, exc.source, lines) from None
