"""``${VAR}`` and ``${VAR:-default}`` references: secrets come from the environment, never the file."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from monitor.ops.redact import redactor

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
SECRET_VAR = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|WEBHOOK|CREDENTIAL|DATABASE_URL|DSN", re.I)


@dataclass
class EnvRef:
    path: str
    var: str


def expand_env(node: Any, path: str, missing: list[EnvRef], environ: dict[str, str],
               used: list[EnvRef] | None = None) -> Any:
    """``node`` with every reference replaced; unset ones go to ``missing``, every one to ``used``."""
    if isinstance(node, dict):
        return {k: expand_env(v, f"{path}.{k}" if path else str(k), missing, environ, used) for k, v in node.items()}
    if isinstance(node, list):
        return [expand_env(v, f"{path}[{i}]", missing, environ, used) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node

    def substitute(match: re.Match) -> str:
        var, default = match.group(1), match.group(2)
        if used is not None:
            used.append(EnvRef(path, var))
        value = environ.get(var)
        if value in (None, "") and default is None:
            missing.append(EnvRef(path, var))
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
