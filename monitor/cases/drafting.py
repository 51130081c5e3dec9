"""What a reply will be before anything is posted: which network and account, the words (typed or a saved
reply), and whether the network can take them. Pure apart from asking the account's replier its limit."""
from __future__ import annotations

import random
import string

from monitor import clock
from monitor.model import ReplyForm, ReplyTarget

__all__ = ["ReplyForm", "fill", "new_key", "problem"]

#: the network a source's posts live on, by source type; a reply goes back there
PLATFORM_OF_SOURCE = {"x": "x", "reddit": "reddit", "bluesky": "bluesky", "jetstream": "bluesky",
                      "mastodon": "mastodon", "mastodon_stream": "mastodon", "googleplay": "googleplay",
                      "appstore": "appstore"}
#: why the posts of these sources cannot be answered from here
NO_WRITE_API = {"hackernews": "Hacker News has no API to post comments",
                "rss": "a feed has no way to answer its entries",
                "file": "posts from a file have no network to answer on"}
PLATFORM_NAMES = {"x": "X", "reddit": "Reddit", "bluesky": "Bluesky", "mastodon": "Mastodon",
                  "googleplay": "Google Play", "appstore": "the App Store"}


def source_platforms(sources: dict) -> dict[str, str]:
    """The network each configured source's posts live on ("" when they cannot be answered), by source name."""
    return {name: getattr(comp.config, "platform", None) or PLATFORM_OF_SOURCE.get(comp.type_name, "")
            for name, comp in sources.items()}


TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def new_key() -> str:
    """A fresh idempotency key shaped as an AT Protocol TID (13 characters: microseconds since 1970 and a
    random clock id), so Bluesky can take it as the reply's record key; the other networks take any string."""
    value = (int(clock.timestamp() * 1_000_000) << 10) | random.getrandbits(10)  # noqa: S311 - not a secret
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


def fill(template: str, target: ReplyTarget) -> str:
    """A saved reply with {author} (the post's author, @-prefixed where the network has handles) and {brand}."""
    author = target.author or "there"
    if target.platform in ("x", "bluesky", "mastodon") and not author.startswith("@"):
        author = "@" + author
    return string.Formatter().vformat(template, (), {"author": author, "brand": target.brand})


def problem(text: str, length: int | None, limit: int, counts: str, platform_name: str) -> str | None:
    """Why ``text`` cannot be sent, or None."""
    if not text.strip():
        return "the reply is empty"
    if length is not None and length > limit:
        return f"the reply is {length} {counts}; {platform_name} takes at most {limit}"
    return None
