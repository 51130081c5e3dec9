"""Secrets written into the file itself: accepted, with a warning that names the ``${VAR}`` form. A config
file ends up in backups, repositories and support tickets; the environment does not."""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.ops.redact import redactor

_SUGGESTED = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def literal_secrets(raw: dict, sources: dict, sinks: dict) -> list[str]:
    """One warning per secret of an enabled component (or the database URL's password) written literally."""
    warnings = _database_password(raw.get("database"))
    raw_sinks = (raw.get("alerts") or {}).get("sinks") if isinstance(raw.get("alerts"), dict) else None
    for section, components, entries in (("sources", sources, raw.get("sources")),
                                         ("alerts.sinks", sinks, raw_sinks)):
        for name, component in components.items():
            entry = entries.get(name) if isinstance(entries, dict) else None
            if component.config.enabled and isinstance(entry, dict):
                warnings += _in_model(component.config, entry, f"{section}.{name}")
    return warnings


def _in_model(model: BaseModel, raw: dict, path: str) -> list[str]:
    found = []
    for name, info in type(model).model_fields.items():
        key = info.alias or name
        value, written = getattr(model, name), raw.get(key)
        if isinstance(value, SecretStr) and _literal(written):
            redactor.add(written)  # kept out of logs like the secrets that come from the environment
            var = _SUGGESTED.search(info.description or "")
            found.append(_warning(f"{path}.{key}", var.group(1) if var else "A_VARIABLE"))
        elif isinstance(value, BaseModel) and isinstance(written, dict):
            found += _in_model(value, written, f"{path}.{key}")
    return found


def _database_password(raw: Any) -> list[str]:
    url = raw.get("url") if isinstance(raw, dict) else None
    if not _literal(url):
        return []
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        return []
    if not password:
        return []
    redactor.add(str(password))
    return [_warning("database.url", "DATABASE_URL")]


def _literal(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "${" not in value


def _warning(path: str, var: str) -> str:
    return (f"{path}: a secret is written in the file; write ${{{var}}} there and set {var} in the environment "
            "(config files end up in backups and repositories)")


def credentials(model: BaseModel, path: str, env_refs: dict[str, str]) -> list[str]:
    """Where each secret of a component's config comes from: 'key from $VAR' or 'key written in the file'."""
    found = []
    for name, info in type(model).model_fields.items():
        key, value = info.alias or name, getattr(model, name)
        at = f"{path}.{key}"
        if isinstance(value, SecretStr):
            found.append(f"{at} from ${env_refs[at]}" if at in env_refs else f"{at} written in the file")
        elif isinstance(value, BaseModel):
            found += credentials(value, at, env_refs)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += credentials(item, f"{at}[{i}]", env_refs)
    return found
