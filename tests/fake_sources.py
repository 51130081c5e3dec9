"""Local stand-ins for the free sources: the Algolia HN Search API, feeds, the App Store reviews feed,
Google Play, Mastodon and Bluesky, answering in the formats those services document or serve.

Each records the requests it saw and answers scripted failures (``failures``) before real answers, so a
test can check what the client sent (filters, cursors, conditional headers) and how errors are handled.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from monitor import clock


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: list[Response] = []

    def _seen(self, request: Request) -> Response | None:
        self.requests.append({"path": request.path, "method": request.method, **request.args.to_dict(),
                              "headers": dict(request.headers)})
        return self.failures.pop(0) if self.failures else None


# Content is dated relative to the clock the product reads, so it stays inside backfill windows on any day.
PUBLISHED_AGO = timedelta(hours=3)
REVIEWED_AGO = timedelta(hours=2)


def _at(ago: timedelta) -> datetime:
    return clock.utcnow().replace(microsecond=0) - ago


def http_date(ago: timedelta) -> str:
    return format_datetime(_at(ago), usegmt=True)


def iso_z(ago: timedelta) -> str:
    return _at(ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def apple_time(ago: timedelta) -> str:
    """Apple's review feeds speak Cupertino's local time with its offset."""
    return _at(ago).astimezone(ZoneInfo("America/Los_Angeles")).isoformat()


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status, headers or {}, content_type="application/json")


class FakeHackerNews(Recorder):
    """GET /search_by_date of hn.algolia.com/api/v1: query (quoted phrase), tags "(story,comment)",
    numericFilters "created_at_i>N", hitsPerPage, page; newest first."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict] = []
        self.next_id = 40_000_000
        self.clock = int(clock.timestamp()) - 600

    def install(self, httpserver) -> None:
        httpserver.expect_request("/search_by_date").respond_with_handler(self.search)

    def story(self, title: str, author: str = "pg", points: int = 12, text: str | None = None) -> str:
        return self._add({"title": title, "url": "https://example.com/a", "author": author, "points": points,
                          "story_text": text, "comment_text": None, "num_comments": 3, "story_id": None,
                          "parent_id": None, "_tags": ["story", f"author_{author}"]})

    def comment(self, html: str, author: str = "dang", parent: str = "1") -> str:
        return self._add({"title": None, "url": None, "author": author, "points": None, "story_text": None,
                          "comment_text": html, "num_comments": None, "story_id": int(parent),
                          "story_title": "Ask HN: Which shop do you use?", "parent_id": int(parent),
                          "_tags": ["comment", f"author_{author}", f"story_{parent}"]})

    def _add(self, item: dict) -> str:
        self.next_id += 1
        self.clock += 5
        item.update(objectID=str(self.next_id), created_at_i=self.clock,
                    created_at=datetime.fromtimestamp(self.clock, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        self.items.append(item)
        return item["objectID"]

    def search(self, request: Request) -> Response:
        failure = self._seen(request)
        if failure:
            return failure
        args = request.args
        phrase = args.get("query", "").strip('"').lower()
        kinds = set(args.get("tags", "").strip("()").split(","))
        since = int(re.fullmatch(r"created_at_i>(\d+)", args.get("numericFilters", "created_at_i>0")).group(1))
        size, page = int(args.get("hitsPerPage", 20)), int(args.get("page", 0))
        found = [i for i in reversed(self.items) if i["created_at_i"] > since and i["_tags"][0] in kinds
                 and phrase in " ".join(str(i.get(k) or "") for k in ("title", "story_text", "comment_text")).lower()]
        pages = (len(found) + size - 1) // size
        return _json({"hits": found[page * size:(page + 1) * size], "nbHits": len(found), "page": page,
                      "nbPages": pages, "hitsPerPage": size, "exhaustiveNbHits": True, "query": args.get("query"),
                      "params": request.query_string.decode(), "processingTimeMS": 1})


class FakeFeeds(Recorder):
    """Feeds at /feeds/<name>: RSS 2.0 or Atom documents with an ETag and Last-Modified, answering 304 to a
    matching If-None-Match or If-Modified-Since (``conditional=False`` plays a server that ignores them)."""

    def __init__(self) -> None:
        super().__init__()
        self.docs: dict[str, tuple[str, str]] = {}  # name -> (content type, document)
        self.modified: dict[str, str] = {}  # name -> Last-Modified, fixed at the first answer like a real file's
        self.conditional = True

    def install(self, httpserver) -> None:
        httpserver.expect_request(re.compile(r"^/feeds/.+")).respond_with_handler(self.serve)

    def rss(self, name: str, items: list[dict], title: str = "Google Alert - pixelcart") -> None:
        body = "".join(
            f"<item><title>{i['title']}</title><link>{i['link']}</link><guid isPermaLink=\"false\">{i['id']}</guid>"
            f"<pubDate>{i.get('date', http_date(PUBLISHED_AGO))}</pubDate>"
            f"<description>{i.get('summary', '')}</description></item>" for i in items)
        self.docs[name] = ("application/rss+xml", '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">'
                           f"<channel><title>{title}</title><link>https://example.com/</link>{body}</channel></rss>")

    def atom(self, name: str, entries: list[dict], title: str = "Pixelcart status") -> None:
        body = "".join(
            f"<entry><id>{e['id']}</id><title type=\"html\">{e['title']}</title><link href=\"{e['link']}\"/>"
            f"<updated>{e.get('updated', iso_z(PUBLISHED_AGO))}</updated><author><name>{e.get('author', 'ops')}"
            f"</name></author><content type=\"html\">{e.get('content', '')}</content></entry>" for e in entries)
        self.docs[name] = ("application/atom+xml", '<?xml version="1.0" encoding="utf-8"?>'
                           f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
                           f"<id>urn:feed:{name}</id><updated>{iso_z(PUBLISHED_AGO)}</updated>{body}</feed>")

    def serve(self, request: Request) -> Response:
        failure = self._seen(request)
        if failure:
            return failure
        name = request.path.removeprefix("/feeds/")
        if name not in self.docs:
            return Response("not found", 404)
        kind, doc = self.docs[name]
        etag = '"' + format(abs(hash(doc)), "x") + '"'
        modified = self.modified.setdefault(name, http_date(PUBLISHED_AGO))
        if self.conditional and (request.headers.get("If-None-Match") == etag):
            return Response(status=304, headers={"ETag": etag})
        return Response(doc, 200, {"ETag": etag, "Last-Modified": modified}, content_type=kind)


class FakeAppStore(Recorder):
    """GET /<country>/rss/customerreviews/page=<n>/id=<app>/sortby=mostrecent/json: Apple's customer-reviews
    feed, 50 reviews a page, newest first, 10 pages at most; page 1 may start with the app's own entry."""

    def __init__(self) -> None:
        super().__init__()
        self.reviews: dict[tuple[str, str], list[dict]] = {}  # (app, country) -> newest last
        self.next_id = 11_000_000_000
        self.app_entry_first = True

    def install(self, httpserver) -> None:
        httpserver.expect_request(re.compile(r"^/[a-z]{2}/rss/customerreviews/.+")).respond_with_handler(self.feed)

    def review(self, app: str, title: str, content: str, stars: int, country: str = "us",
               author: str = "Jo Bloggs") -> str:
        self.next_id += 7
        self.reviews.setdefault((app, country), []).append({
            "author": {"uri": {"label": f"https://itunes.apple.com/{country}/reviews/id{self.next_id % 997}"},
                       "name": {"label": author}, "label": ""},
            "updated": {"label": apple_time(REVIEWED_AGO)}, "im:rating": {"label": str(stars)},
            "im:version": {"label": "5.2.1"}, "id": {"label": str(self.next_id)}, "title": {"label": title},
            "content": {"label": content, "attributes": {"type": "text"}},
            "link": {"attributes": {"rel": "related", "href": f"https://itunes.apple.com/{country}/review?id={app}"}},
            "im:voteSum": {"label": "0"}, "im:voteCount": {"label": "0"},
            "im:contentType": {"attributes": {"term": "Application", "label": "Application"}}})
        return str(self.next_id)

    def feed(self, request: Request) -> Response:
        failure = self._seen(request)
        if failure:
            return failure
        match = re.fullmatch(r"/([a-z]{2})/rss/customerreviews/page=(\d+)/id=(\d+)/sortby=mostrecent/json",
                             request.path)
        if not match:
            return Response("bad path", 400)
        country, page, app = match.group(1), int(match.group(2)), match.group(3)
        if page > 10:
            return Response("", 400)
        newest_first = list(reversed(self.reviews.get((app, country), [])))
        entries = newest_first[(page - 1) * 50:page * 50]
        if page == 1 and self.app_entry_first and entries:
            entries = [{"im:name": {"label": "Pixelcart"}, "id": {"label": f"https://apps.apple.com/app/id{app}"}}] \
                + entries
        feed = {"author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/us/itunes/"}},
                "updated": {"label": apple_time(timedelta(0))}, "icon": {"label": "http://itunes.apple.com/favicon.ico"},
                "id": {"label": f"https://mzstoreservices-int-st.itunes.apple.com/{country}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json"}}
        if entries:
            feed["entry"] = entries[0] if len(entries) == 1 else entries
        return _json({"feed": feed})


class FakeMastodon(Recorder):
    """GET /api/v1/timelines/tag/<tag> (min_id, limit; newest first) and /api/v2/instance, with
    X-RateLimit-Limit/Remaining/Reset headers; statuses in Mastodon's documented entity format."""

    def __init__(self, domain: str = "social.example") -> None:
        super().__init__()
        self.domain = domain
        self.statuses: list[dict] = []  # oldest first
        self.next_id = 113_000_000_000_000_000
        self.remaining = 300
        self.token: str | None = None  # when set, timelines need "Bearer <token>"

    def install(self, httpserver) -> None:
        httpserver.expect_request(re.compile(r"^/api/v1/timelines/tag/.+")).respond_with_handler(self.tag)
        httpserver.expect_request("/api/v2/instance").respond_with_handler(self.instance)
        httpserver.expect_request("/api/v2/search").respond_with_handler(self.search)

    def status(self, html: str, tags: list[str], acct: str = "ann@other.example", followers: int = 120,
               reblog: bool = False) -> str:
        self.next_id += 1_000_003
        sid = str(self.next_id)
        self.statuses.append({
            "id": sid, "created_at": clock.utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "in_reply_to_id": None, "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
            "visibility": "public", "language": "en", "uri": f"https://other.example/users/ann/statuses/{sid}",
            "url": f"https://other.example/@ann/{sid}", "replies_count": 0, "reblogs_count": 1,
            "favourites_count": 2, "edited_at": None, "content": html,
            "reblog": {"id": "1"} if reblog else None, "application": None,
            "account": {"id": "109", "username": acct.split("@")[0], "acct": acct, "display_name": "Ann",
                        "locked": False, "bot": False, "created_at": "2022-11-01T00:00:00.000Z", "note": "",
                        "url": f"https://other.example/@{acct.split('@')[0]}", "avatar": "", "header": "",
                        "followers_count": followers, "following_count": 10, "statuses_count": 99,
                        "emojis": [], "fields": []},
            "media_attachments": [], "mentions": [], "emojis": [], "card": None, "poll": None,
            "tags": [{"name": t, "url": f"https://{self.domain}/tags/{t}"} for t in tags]})
        return sid

    def _headers(self) -> dict:
        reset = datetime.fromtimestamp(clock.timestamp() + 300, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(self.remaining), "X-RateLimit-Reset": reset}

    def instance(self, request: Request) -> Response:
        return _json({"domain": self.domain, "version": "4.3.0", "configuration": {"timelines_access": {
            "live_feeds": {"local": "public", "remote": "public"},
            "hashtag_feeds": {"local": "public", "remote": "public"},
            "trending_link_feeds": {"local": "public", "remote": "public"}}}})

    def search(self, request: Request) -> Response:
        """GET /api/v2/search?q=<url or uri>&resolve=true: the status, if the instance (or its origin) has it;
        resolving needs a user token."""
        failure = self._seen(request)
        if failure:
            return failure
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"accounts": [], "statuses": [], "hashtags": []})
        q = request.args.get("q", "")
        found = [s for s in self.statuses if q in (s["uri"], s["url"])]
        return _json({"accounts": [], "statuses": found, "hashtags": []})

    def tag(self, request: Request) -> Response:
        failure = self._seen(request)
        if failure:
            return failure
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"error": "This method requires an authenticated user"}, 401)
        self.remaining -= 1
        tag = request.path.rsplit("/", 1)[1].lower()
        limit = int(request.args.get("limit", 20))
        found = [s for s in self.statuses if tag in {t["name"] for t in s["tags"]}]
        min_id = request.args.get("min_id")
        if min_id:
            found = [s for s in found if int(s["id"]) > int(min_id)][:limit]  # the oldest newer ones
        else:
            found = found[-limit:]
        return _json(list(reversed(found)), 200, self._headers())


def _jwt(payload: dict) -> str:
    import base64

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.c2lnbmF0dXJl"


class FakeBluesky(Recorder):
    """The XRPC endpoints the source uses: com.atproto.server.createSession / refreshSession and
    app.bsky.feed.searchPosts (q, sort=latest, since, limit, cursor), with JWT sessions that expire."""

    HANDLE, PASSWORD, DID = "monitor.bsky.social", "abcd-efgh-ijkl-mnop", "did:plc:monitor123"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict] = []  # oldest first
        self.access_ttl = 7200
        self.tokens: dict[str, float] = {}  # access token -> expiry
        self.refresh_tokens: set[str] = set()
        self.serial = 0
        self.clock = clock.timestamp() - 600
        self.search_failures: list[Response] = []  # answered by searchPosts only

    def install(self, httpserver) -> None:
        httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST") \
            .respond_with_handler(self.create_session)
        httpserver.expect_request("/xrpc/com.atproto.server.refreshSession", method="POST") \
            .respond_with_handler(self.refresh_session)
        httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(self.search)

    def calls(self, name: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == f"/xrpc/{name}"]

    def post(self, text: str, handle: str = "ann.bsky.social", likes: int = 3, reply_to: str | None = None) -> str:
        self.serial += 1
        self.clock += 2
        stamp = datetime.fromtimestamp(self.clock, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        uri = f"at://did:plc:{handle.split('.')[0]}/app.bsky.feed.post/3l{self.serial:011d}"
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": stamp, "langs": ["en"]}
        if reply_to:
            ref = {"uri": reply_to, "cid": "bafyreib2rxk3rh6kzwq"}
            record["reply"] = {"root": ref, "parent": ref}
        self.posts.append({"uri": uri, "cid": f"bafyreie{self.serial:020d}",
                           "author": {"did": f"did:plc:{handle.split('.')[0]}", "handle": handle,
                                      "displayName": handle.split(".")[0].title(), "labels": []},
                           "record": record, "replyCount": 0, "repostCount": 1, "likeCount": likes,
                           "quoteCount": 0, "indexedAt": stamp, "labels": []})
        return uri

    def _session(self) -> dict:
        now = int(clock.timestamp())
        self.serial += 1
        access = _jwt({"scope": "com.atproto.appPass", "sub": self.DID, "iat": now, "exp": now + self.access_ttl,
                       "jti": f"a{self.serial}"})
        refresh = _jwt({"scope": "com.atproto.refresh", "sub": self.DID, "iat": now, "exp": now + 90 * 86400,
                        "jti": f"r{self.serial}"})
        self.tokens[access] = now + self.access_ttl
        self.refresh_tokens.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.HANDLE, "did": self.DID,
                "email": "ops@example.com", "emailConfirmed": True, "active": True}

    def create_session(self, request: Request) -> Response:
        failure = self._seen(request)
        if failure:
            return failure
        body = request.get_json(silent=True) or {}
        if body.get("identifier") != self.HANDLE or body.get("password") != self.PASSWORD:
            return _json({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401)
        return _json(self._session())

    def refresh_session(self, request: Request) -> Response:
        failure = self._seen(request)
        if failure:
            return failure
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.refresh_tokens:
            return _json({"error": "ExpiredToken", "message": "Token has been revoked"}, 400)
        self.refresh_tokens.discard(token)
        return _json(self._session())

    def search(self, request: Request) -> Response:
        failure = self._seen(request) or (self.search_failures.pop(0) if self.search_failures else None)
        if failure:
            return failure
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0) < clock.timestamp():
            return _json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        phrase = request.args.get("q", "").strip('"').lower()
        since = request.args.get("since", "")
        limit = int(request.args.get("limit", 25))
        start = int(request.args.get("cursor", 0))
        found = [p for p in reversed(self.posts) if phrase in p["record"]["text"].lower() and p["indexedAt"] >= since]
        page = found[start:start + limit]
        body = {"posts": page, "hitsTotal": len(found)}
        if start + limit < len(found):
            body["cursor"] = str(start + limit)
        return _json(body)


class FakeGooglePlay(Recorder):
    """POST /_/PlayStoreUi/data/batchexecute?hl=..&gl=.. with the review-list rpc (oCPfdb) in f.req, answered
    as the Play Store web app is: ")]}'" then a JSON envelope whose [0][2] is the rpc's JSON payload:
    [reviews newest first, [null, next page token], null]."""

    def __init__(self) -> None:
        super().__init__()
        self.reviews: dict[str, list[list]] = {}  # app -> oldest first
        self.serial = 0
        self.clock = int(clock.timestamp()) - 3600

    def install(self, httpserver) -> None:
        httpserver.expect_request("/_/PlayStoreUi/data/batchexecute", method="POST").respond_with_handler(self.rpc)

    def review(self, app: str, text: str, stars: int, user: str = "Sam P", thumbs: int = 2) -> str:
        self.serial += 1
        self.clock += 30
        rid = f"gp:AOqpTO{self.serial:08d}"
        self.reviews.setdefault(app, []).append(
            [rid, [user, [None, 2, None, [None, None, "https://play-lh.googleusercontent.com/a"]]], stars, None,
             text, [self.clock, 123000000], thumbs, None, None, None, "5.2.1"])
        return rid

    def rpc(self, request: Request) -> Response:
        failure = self._seen(request)
        if failure:
            return failure
        outer = json.loads(request.form["f.req"])
        rpc, inner = outer[0][0][0], json.loads(outer[0][0][1])
        self.requests[-1].update(rpc=rpc, sort=inner[1][1], paging=inner[1][2], app=inner[2][0])
        if rpc != "oCPfdb" or inner[1][1] != 2:
            return Response("bad rpc", 400)
        count, start = inner[1][2][0], int(inner[1][2][2]) if len(inner[1][2]) > 2 else 0
        newest_first = list(reversed(self.reviews.get(inner[2][0], [])))
        page = newest_first[start:start + count]
        more = start + count < len(newest_first)
        payload = json.dumps([page, [None, str(start + count)] if more else None, None])
        envelope = [["wrb.fr", "oCPfdb", payload, None, None, None, "generic"], ["di", 41], ["af.httprm", 40, "-1", 7]]
        return Response(")]}'\n\n" + json.dumps(envelope), 200, content_type="application/json; charset=utf-8")
