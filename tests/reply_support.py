"""A service whose complaints come from one network (a JSON-lines export with ``platform`` set) and whose
brand account replies there, against a local stand-in: what every reply test starts from."""
from __future__ import annotations

from monitor.model import ReplyRequest
from monitor.service import MonitorService
from tests.support import RecordingSink, build_config, write_jsonl


def reply_service(tmp_path, db_url, platform: str, account: dict, posts: list[dict], **replies):
    """Prepared and polled once: each complaint in ``posts`` has an open case."""
    write_jsonl(tmp_path / "feed.jsonl", posts)
    section = {"accounts": [{"brand": "Pixelcart", "platform": platform, **account}], **replies}
    config = build_config(tmp_path, db_url, sources={"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"),
                                                              "platform": platform}}, replies=section)
    svc = MonitorService(config)
    svc.prepare()
    svc.run_once()
    return svc


def case_for(svc, external_id: str) -> int:
    [alert] = [a for a in RecordingSink.sent["rec"] if a.external_id == external_id]
    return alert.case.id


def send(svc, case_id: int, text: str, actor: str = "dana", origin: str = "cli", **more):
    return svc.replies.handle(ReplyRequest(case_id, actor, origin, text=text, **more))


def notes(name: str = "rec") -> list[str]:
    return [text for _channel, text in RecordingSink.notices[name]]


def interrupted(svc, case_id: int, platform: str, text: str, posted: bool):
    """What a crash leaves, then a restart: the reply stored 'sending', posted on the network (``posted``) or
    not, the service gone; returns the restarted service (which settled it) and the reply's row."""
    from monitor.cases.drafting import new_key
    from monitor.store.schema import replies

    form = svc.replies.form(case_id)
    reply, owned = svc.store.replies.start(case_id, platform, text, new_key(), "dana", "cli", "sending")
    assert owned
    if posted:
        svc.replies._replier(form.target).send(form.target, reply.text, reply.key)
    svc.close()
    again = MonitorService(svc.config)
    again.prepare()
    with again.store.db.engine.connect() as conn:
        [row] = conn.execute(replies.select()).all()
    return again, row
