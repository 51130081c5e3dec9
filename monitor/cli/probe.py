"""check-config --probe: one read-only request per enabled source, sink and reply account, through the
component's own client, so a wrong credential shows up before the service starts and says which one."""
from __future__ import annotations

from monitor.components import DeliveryError, ReplyError, SourceError
from monitor.config.secrets import credentials


def probe_all(config) -> tuple[list[str], int]:
    """The report lines and how many probes failed."""
    lines, failed = ["probes (one read-only request each; nothing is posted):"], 0
    parts = [("sources", name, comp, lambda c=comp, n=name: c.cls(n, c.config, config.brands))
             for name, comp in config.enabled_sources().items()]
    parts += [("alerts.sinks", name, comp, lambda c=comp, n=name: c.cls(n, c.config))
              for name, comp in config.enabled_sinks().items()]
    parts += [("", account.path, account, lambda a=account: a.cls(a.config)) for account in config.reply_accounts]
    for section, name, comp, build in parts:
        ok, said = _probe(build)
        if not ok:
            failed += 1
            where = credentials(comp.config, f"{section}.{name}" if section else name, config.env_refs)
            said += f" [credentials: {'; '.join(where)}]" if where else ""
        kind = comp.type_name if section else f"{comp.brand} on {comp.platform}"
        lines.append(f"  {name} ({kind}): {'OK' if ok else 'FAILED'}: {said}")
    if len(lines) == 1:
        lines.append("  nothing enabled")
    return lines, failed


def _probe(build) -> tuple[bool, str]:
    try:
        component = build()
    except Exception as exc:  # noqa: BLE001 - a client that cannot be built is this probe's answer
        return False, f"cannot be built: {type(exc).__name__}: {exc}"[:300]
    try:
        proved = component.probe()
    except (SourceError, DeliveryError, ReplyError) as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure still names the component, not a traceback
        return False, f"unexpected {type(exc).__name__}: {exc}"[:300]
    finally:
        component.close()
    return True, proved or "nothing remote to check"
