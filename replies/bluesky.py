"""Bluesky replies through the atproto SDK: ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post``
whose ``reply`` names the thread's root and the answered post (each by URI and CID, read with
``app.bsky.feed.getPosts``, which also proves the post still exists).

Sign-in is a handle and an app password, once per service start (the SDK refreshes the session). Each
reply's record key is its idempotency key (a TID), so a retried request cannot post twice: the PDS refuses
the second record, and after a crash ``getRecord`` of that key says whether the reply was posted. Bluesky
counts 300 graphemes.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr

from monitor.components import Replier, ReplyError
from monitor.config.replies import NetworkAccountConfig
from monitor.model import ReplyTarget, SentReply
from monitor.registry import repliers
from replies._counting import grapheme_count

API = "https://bsky.social"
POST = "app.bsky.feed.post"
LIMIT = 300


class BlueskyAccountConfig(NetworkAccountConfig):
    handle: str = Field(min_length=3, description="the brand account's handle, e.g. acme.bsky.social")
    app_password: SecretStr = Field(description="an app password of that account (Settings > App passwords): "
                                    "write ${ACME_BLUESKY_APP_PASSWORD}")


@repliers.register("bluesky")
class BlueskyReplier(Replier):
    config_model = BlueskyAccountConfig
    counts = "graphemes"

    def __init__(self, config: BlueskyAccountConfig) -> None:
        super().__init__(config)
        from atproto import Client
        from atproto_client.request import Request

        self.client = Client(base_url=config.api_base_url or API, request=Request(timeout=config.timeout))
        self.client.on_session_change(self._session_changed)
        self._did: str | None = None

    def _session_changed(self, event, session) -> None:
        self._did = session.did  # the account's DID: the repo replies are written to

    def account(self) -> str:
        return f"@{self.config.handle} on Bluesky"

    def limit(self) -> int:
        return LIMIT

    def length(self, text: str) -> int:
        return grapheme_count(text)

    def _signed_in(self) -> str:
        if self._did is None:
            self._call(lambda: self.client.login(self.config.handle, self.config.app_password.get_secret_value(),
                                                 fetch_bsky_profile=False), signing_in=True)
        return self._did

    def _view(self, target: ReplyTarget) -> Any:
        if not target.external_id.startswith("at://"):
            raise ReplyError(f"the stored post has no Bluesky URI ({target.external_id[:60]})", off_platform=True)
        self._signed_in()
        found = self._call(lambda: self.client.app.bsky.feed.get_posts({"uris": [target.external_id]}))
        posts = getattr(found, "posts", None) or []
        if not posts:
            raise ReplyError("Bluesky no longer has the post: it was deleted (or its author blocked the account)")
        return posts[0]

    def check(self, target: ReplyTarget) -> None:
        self._view(target)

    def send(self, target: ReplyTarget, text: str, key: str) -> SentReply:
        from atproto import models

        view = self._view(target)
        parent = {"uri": view.uri, "cid": view.cid}
        thread = getattr(view.record, "reply", None)
        root = {"uri": thread.root.uri, "cid": thread.root.cid} if thread is not None else parent
        record = {"$type": POST, "text": text, "createdAt": self.client.get_current_time_iso(),
                  "reply": {"root": root, "parent": parent}}
        did = self._signed_in()
        created = self._call(lambda: self.client.com.atproto.repo.create_record(
            models.ComAtprotoRepoCreateRecord.Data(repo=did, collection=POST, rkey=key, record=record)), sending=True)
        return SentReply(created.uri, self._link(created.uri))

    def find_sent(self, target: ReplyTarget, text: str, key: str) -> SentReply | None:
        from atproto_client import exceptions as e

        did = self._signed_in()
        try:
            found = self.client.com.atproto.repo.get_record({"repo": did, "collection": POST, "rkey": key})
        except e.BadRequestError as exc:
            if _error(exc) == "RecordNotFound":
                return None
            raise ReplyError(f"Bluesky refused to say whether the reply was posted: {_message(exc)}") from None
        except e.AtProtocolError as exc:
            raise ReplyError(f"Bluesky did not answer: {type(exc).__name__}", unknown=True) from None
        return SentReply(found.uri, self._link(found.uri))

    def _link(self, uri: str) -> str:
        return f"https://bsky.app/profile/{self.config.handle}/post/{uri.rsplit('/', 1)[-1]}"

    def probe(self) -> str:
        self._signed_in()
        return f"signed in as @{self.config.handle}"

    def _call(self, request, signing_in: bool = False, sending: bool = False) -> Any:
        from atproto_client import exceptions as e

        try:
            return request()
        except (e.UnauthorizedError, e.BadRequestError) as exc:
            if signing_in:
                raise ReplyError(f"Bluesky refused the sign-in of @{self.config.handle} ({_message(exc)}): check "
                                 "handle and app_password", off_platform=True) from None
            raise ReplyError(f"Bluesky refused it: {_message(exc)}") from None
        except e.RequestException as exc:
            raise ReplyError(f"Bluesky refused it: {_message(exc)}") from None
        except (e.InvokeTimeoutError, e.NetworkError) as exc:
            raise ReplyError(f"Bluesky did not answer in time ({type(exc).__name__})", unknown=sending) from None
        except (e.ModelError, e.AtProtocolError) as exc:
            raise ReplyError(f"Bluesky returned a malformed answer ({type(exc).__name__})", unknown=sending) from None

    def close(self) -> None:
        self.client.request.close()


def _error(exc) -> str | None:
    return getattr(getattr(getattr(exc, "response", None), "content", None), "error", None)


def _message(exc) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    said = getattr(content, "message", None) or getattr(content, "error", None)
    return str(said or exc)[:300]
