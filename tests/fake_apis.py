"""Local stand-ins for the X API v2, Reddit and the Slack Web API, answering in their documented formats.

They run inside pytest-httpserver on 127.0.0.1; the real tweepy, praw and slack_sdk
clients talk to them over HTTP. Each keeps the requests it saw so tests can
check what the client sent (since_id, pagination tokens, auth).
"""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import timedelta

from werkzeug import Request, Response

from monitor import clock


def problem(status: int, title: str, detail: str, headers: dict | None = None) -> Response:
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status}
    return Response(json.dumps(body), status, headers or {}, content_type="application/problem+json")


class FakeAPI:
    """Records each request, checks its bearer token, and answers scripted failures first."""

    AUTH_SCHEME = "Bearer"
    TOKEN = ""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: list[Response] = []  # answered instead of the next requests

    def unauthorized(self) -> Response:
        raise NotImplementedError

    def _guard(self, request: Request) -> Response | None:
        self.requests.append({"path": request.path, **request.values.to_dict(),
                              "authorization": request.headers.get("Authorization")})
        if request.headers.get("Authorization") != f"{self.AUTH_SCHEME} {self.TOKEN}":
            return self.unauthorized()
        if self.failures:
            return self.failures.pop(0)
        return None


class FakeX(FakeAPI):
    """GET /2/tweets/search/recent, /2/users/by/username/:u and /2/users/:id/mentions."""

    TOKEN = "test-bearer-token"
    ACCOUNTS = {"northwindair": "900", "pixelcart": "901"}  # the brands' own accounts

    def __init__(self) -> None:
        super().__init__()
        self.tweets: list[dict] = []   # oldest first
        self.users: dict[str, dict] = {}
        self.t0 = clock.utcnow() - timedelta(minutes=30)  # inside the default 1 h backfill

    def install(self, httpserver) -> None:
        httpserver.expect_request("/2/tweets/search/recent").respond_with_handler(self.search)
        httpserver.expect_request(re.compile(r"^/2/users/by/username/\w+$")).respond_with_handler(self.user_lookup)
        httpserver.expect_request(re.compile(r"^/2/users/\d+/mentions$")).respond_with_handler(self.mentions)
        httpserver.expect_request("/2/tweets").respond_with_handler(self.lookup)

    def user(self, username: str, followers: int) -> dict:
        ident = str(100 + len(self.users))
        self.users[username] = {"id": ident, "name": username.title(), "username": username,
                                "public_metrics": {"followers_count": followers, "following_count": 5,
                                                   "tweet_count": 50, "listed_count": 0}}
        return self.users[username]

    def post(self, text: str, username: str = "ann", followers: int = 120, lang: str = "en",
             mentions_of: str | None = None, reply_to: str | None = None) -> str:
        author = self.users.get(username) or self.user(username, followers)
        ident = str(1_860_000_000_000_000_000 + len(self.tweets) * 1000)
        when = self.t0 + timedelta(seconds=10 * len(self.tweets))
        self.tweets.append({
            "id": ident, "text": text, "author_id": author["id"], "lang": lang, "conversation_id": ident,
            "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "edit_history_tweet_ids": [ident],
            "public_metrics": {"retweet_count": 0, "reply_count": 1, "like_count": 2, "quote_count": 0},
            "_mentions": mentions_of})
        if reply_to:
            replied = next(t for t in self.tweets if t["id"] == reply_to)
            self.tweets[-1].update(referenced_tweets=[{"type": "replied_to", "id": reply_to}],
                                   in_reply_to_user_id=replied["author_id"], conversation_id=replied["conversation_id"])
        return ident

    # -- handlers -------------------------------------------------------------

    def unauthorized(self) -> Response:
        return problem(401, "Unauthorized", "Unauthorized")

    def search(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        query = request.args["query"]
        # (from:account is:reply): that account's replies, whatever their words
        replying = {self.users[u]["id"] for u in re.findall(r"from:(\w+) is:reply", query) if u in self.users}
        query = re.sub(r"\(from:\w+ is:reply\)", " ", query)
        words = {w.strip('()"').lower() for w in query.split() if not w.startswith("-")}
        found = [t for t in self.tweets if any(w and w in t["text"].lower() for w in words - {"or"})
                 or (t["author_id"] in replying and t.get("referenced_tweets"))]
        return self._page(request, found, "next_token")

    def mentions(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        user_id = request.path.split("/")[3]
        return self._page(request, [t for t in self.tweets if t["_mentions"] == user_id], "pagination_token")

    def lookup(self, request: Request) -> Response:
        """GET /2/tweets?ids=: the posts that are still public, and an error for each one that is not: "Not
        Found Error" when deleted, "Authorization Error" when its author is suspended or protected."""
        if (failure := self._guard(request)) is not None:
            return failure
        body: dict = {"data": [], "errors": []}
        for ident in request.args.get("ids", "").split(","):
            tweet = next((t for t in self.tweets if t["id"] == ident), None)
            if tweet is not None and not tweet.get("_protected"):
                body["data"].append({"id": ident, "text": tweet["text"], "edit_history_tweet_ids": [ident]})
                continue
            if tweet:
                title = "Authorization Error"
                detail = f"Sorry, you are not authorized to see the Tweet with id: [{ident}]."
            else:
                title, detail = "Not Found Error", f"Could not find tweet with id: [{ident}]."
            body["errors"].append({"value": ident, "detail": detail, "title": title, "resource_type": "tweet",
                                   "parameter": "ids", "resource_id": ident,
                                   "type": "https://api.twitter.com/2/problems/resource-not-found"})
        return Response(json.dumps({k: v for k, v in body.items() if v}), 200, content_type="application/json")

    def user_lookup(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        username = request.path.rsplit("/", 1)[1]
        ident = self.ACCOUNTS.get(username.lower())
        if ident is None:
            body = {"errors": [{"value": username, "detail": f"Could not find user with username: [{username}].",
                                "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                                "resource_id": username, "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
        else:
            body = {"data": {"id": ident, "name": username.title(), "username": username}}
        return Response(json.dumps(body), 200, content_type="application/json")

    def _page(self, request: Request, found: list[dict], token_param: str) -> Response:
        args = request.args
        since = int(args.get("since_id", 0))
        start = args.get("start_time")
        newest_first = [t for t in reversed(found) if int(t["id"]) > since
                        and (not start or t["created_at"] >= start.replace("Z", ".000Z"))]
        if token := args.get(token_param):
            newest_first = [t for t in newest_first if int(t["id"]) < int(token.removeprefix("b26v89c19zqg8o3f"))]
        size = int(args.get("max_results", 10))
        page, rest = newest_first[:size], newest_first[size:]
        meta: dict = {"result_count": len(page)}
        body: dict = {}
        if page:
            fields = set(args.get("tweet.fields", "").split(",")) | {"id", "text", "edit_history_tweet_ids"}
            body["data"] = [{k: v for k, v in t.items() if k in fields} for t in page]
            author_ids = {t["author_id"] for t in page}
            body["includes"] = {"users": [u for u in self.users.values() if u["id"] in author_ids]}
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if rest:
            meta["next_token"] = "b26v89c19zqg8o3f" + page[-1]["id"]
        body["meta"] = meta
        return Response(json.dumps(body), 200, content_type="application/json")


class FakeReddit(FakeAPI):
    """POST /api/v1/access_token, GET /r/{subs}/search and /r/{subs}/comments as Reddit's Listings."""

    CLIENT_ID, SECRET, TOKEN = "test-client-id", "test-client-secret", "fake-access-token"
    AUTH_SCHEME = "bearer"

    def __init__(self) -> None:
        super().__init__()
        self.things: list[dict] = []  # oldest first; kind t3 (submission) or t1 (comment)
        self.t0 = clock.timestamp() - 1800
        self.token_requests = 0
        # Reddit's rate-limit window as its answers report it (x-ratelimit-* headers, reset in seconds).
        self.ratelimit = {"remaining": "595.0", "used": "5", "reset": "300"}
        self.search_delay = 0.0  # seconds each search takes to answer (a slow Reddit)

    def install(self, httpserver) -> None:
        httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_handler(self.access_token)
        httpserver.expect_request(re.compile(r"^/r/[\w+]+/search/?$")).respond_with_handler(self.search)
        httpserver.expect_request(re.compile(r"^/r/[\w+]+/comments/?$")).respond_with_handler(self.comments)
        httpserver.expect_request(re.compile(r"^/user/\w+/comments/?$")).respond_with_handler(self.user_comments)

    def submission(self, title: str, body: str = "", sub: str = "all", author: str = "ann", score: int = 3,
                   comments: int = 1, age: float | None = None) -> str:
        ident = f"{len(self.things) + 1:x}abc"
        created = self.t0 + 10 * len(self.things) if age is None else clock.timestamp() - age
        self.things.append({"kind": "t3", "data": {
            "id": ident, "name": f"t3_{ident}", "title": title, "selftext": body, "author": author,
            "created_utc": created, "score": score, "num_comments": comments, "subreddit": sub,
            "permalink": f"/r/{sub}/comments/{ident}/post/", "url": f"https://www.reddit.com/r/{sub}/comments/{ident}/",
            "over_18": False, "is_self": True}})
        return f"t3_{ident}"

    def comment(self, body: str, sub: str = "travel", author: str = "bob", score: int = 2,
                parent: str = "t3_parent") -> str:
        ident = f"{len(self.things) + 1:x}cmt"
        self.things.append({"kind": "t1", "data": {
            "id": ident, "name": f"t1_{ident}", "body": body, "author": author, "score": score,
            "created_utc": self.t0 + 10 * len(self.things), "subreddit": sub, "link_id": "t3_parent",
            "parent_id": parent, "permalink": f"/r/{sub}/comments/parent/post/{ident}/"}})
        return f"t1_{ident}"

    def access_token(self, request: Request) -> Response:
        self.token_requests += 1
        auth = request.authorization
        if not auth or (auth.username, auth.password) != (self.CLIENT_ID, self.SECRET):
            return Response(json.dumps({"message": "Unauthorized", "error": 401}), 401,
                            content_type="application/json")
        return Response(json.dumps({"access_token": self.TOKEN, "token_type": "bearer", "expires_in": 86400,
                                    "scope": "*"}), 200, content_type="application/json")

    def unauthorized(self) -> Response:
        return Response(json.dumps({"message": "Unauthorized", "error": 401}), 401, content_type="application/json")

    def search(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        if self.search_delay:
            time.sleep(self.search_delay)
        subs = request.path.split("/")[2].lower().split("+")
        words = [w.strip('"').lower() for w in request.args["q"].split(" OR ")]
        found = [t for t in self.things if t["kind"] == "t3" and ("all" in subs or t["data"]["subreddit"] in subs)
                 and any(w in (t["data"]["title"] + " " + t["data"]["selftext"]).lower() for w in words)]
        return self._listing(request, found)

    def comments(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        subs = request.path.split("/")[2].lower().split("+")
        return self._listing(request, [t for t in self.things if t["kind"] == "t1" and t["data"]["subreddit"] in subs])

    def user_comments(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        name = request.path.split("/")[2].lower()
        return self._listing(request, [t for t in self.things if t["kind"] == "t1"
                                       and t["data"]["author"].lower() == name])

    def _listing(self, request: Request, found: list[dict]) -> Response:
        newest_first = list(reversed(found))
        if after := request.args.get("after"):
            names = [t["data"]["name"] for t in newest_first]
            newest_first = newest_first[names.index(after) + 1:] if after in names else []
        size = min(100, int(request.args.get("limit", 25)))
        page = newest_first[:size]
        after_name = page[-1]["data"]["name"] if len(newest_first) > size else None
        body = {"kind": "Listing", "data": {"after": after_name, "dist": len(page), "modhash": "", "geo_filter": "",
                                            "children": page, "before": None}}
        headers = {f"x-ratelimit-{k}": v for k, v in self.ratelimit.items()}
        return Response(json.dumps(body), 200, headers, content_type="application/json")


def _text_object_problem(obj, types=("plain_text", "mrkdwn"), limit: int = 3000) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in types:
        return f"text object of type {obj.get('type') if isinstance(obj, dict) else obj!r}"
    allowed = {"type", "text", "emoji"} if obj["type"] == "plain_text" else {"type", "text", "verbatim"}
    if set(obj) - allowed:
        return f"unknown text object keys {sorted(set(obj) - allowed)}"
    if not isinstance(obj.get("text"), str) or not obj["text"] or len(obj["text"]) > limit:
        return "text missing, empty or too long"
    return None


def _button_problem(element) -> str | None:
    if not isinstance(element, dict) or element.get("type") != "button":
        return "actions element is not a button"
    if set(element) - {"type", "text", "action_id", "value", "style", "url"} or not element.get("action_id"):
        return "button keys"
    if element.get("style") not in (None, "primary", "danger"):
        return "button style"
    return _text_object_problem(element.get("text"), ("plain_text",), 75)


# Blocks made of a list of elements: how many each may hold, and what each element must be.
ELEMENT_BLOCKS = {"context": (10, _text_object_problem), "actions": (25, _button_problem)}


def block_kit_problem(blocks) -> str | None:
    """What Slack would refuse in a message's blocks (Block Kit reference: layout blocks and composition
    objects), or None. The real API answers invalid_blocks; a stand-in that accepted anything would let a
    malformed message pass every test."""
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "blocks must be a list of at most 50"
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            if set(block) - {"type", "text", "block_id", "fields", "accessory"}:
                return "unknown section keys"
            problem = _text_object_problem(block.get("text"))
        elif kind in ELEMENT_BLOCKS:
            most, element_problem = ELEMENT_BLOCKS[kind]
            elements = block.get("elements")
            if set(block) - {"type", "elements", "block_id"} or not isinstance(elements, list) \
                    or not 1 <= len(elements) <= most:
                return f"{kind} needs 1-{most} elements"
            problem = next(filter(None, (element_problem(e) for e in elements)), None)
        elif kind == "header":
            if set(block) - {"type", "text", "block_id"}:
                return "unknown header keys"
            problem = _text_object_problem(block.get("text"), ("plain_text",), 150)
        elif kind == "divider":
            problem = None
        else:
            return f"unknown block type {kind!r}"
        if problem:
            return problem
    return None


class FakeSlack(FakeAPI):
    """The Slack Web API methods the sink uses, plus an incoming webhook, as Slack documents them."""

    TOKEN = "xoxb-test-token"
    CHANNELS = {"C0SUPPORT", "C0ESCALATE", "C0OPS", "#support"}
    NOT_IN = {"C0PRIVATE"}
    WEBHOOK_PATH = "/services/T000/B000/XXXXXXXX"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict] = []
        self.webhook_posts: list[dict] = []
        self.down = False  # answer 500 to everything while True
        self.delay = 0.0   # seconds each chat.postMessage takes (a slow Slack)
        self.files: dict[str, dict] = {}  # file id -> filename, length, content, title, channel, thread_ts
        self.upload_url_missing = False  # files.getUploadURLExternal answers ok but without upload_url
        self.updates: list[dict] = []     # chat.update calls, in order
        self.responses: list[dict] = []   # what the app posted to an interaction's response_url
        # hold_at=N: the Nth chat.postMessage is posted, then its answer is held until ``release`` is set, so a
        # test can kill the client at a known point: after Slack has the message, before the client knows.
        self.hold_at: int | None = None
        self.holding, self.release = threading.Event(), threading.Event()
        self._ts = clock.timestamp()
        self.usergroups: dict[str, list[str]] = {"S0SUPPORT": ["U0CAROL", "U0DAN"]}
        self.calls: dict[str, int] = {}  # method -> how many times it was called
        self.views: dict[str, dict] = {}  # view id -> the modal as last opened or updated
        self.view_log: list[tuple[str, dict]] = []  # (method, view) in order

    def install(self, httpserver) -> None:
        httpserver.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(self.post_message)
        httpserver.expect_request("/api/conversations.history").respond_with_handler(self.history)
        httpserver.expect_request("/api/conversations.replies").respond_with_handler(self.replies)
        httpserver.expect_request(self.WEBHOOK_PATH, method="POST").respond_with_handler(self.webhook)
        httpserver.expect_request("/api/files.getUploadURLExternal").respond_with_handler(self.upload_url)
        httpserver.expect_request(re.compile(r"^/upload/v1/F\w+$"), method="POST").respond_with_handler(self.upload)
        httpserver.expect_request("/api/files.completeUploadExternal").respond_with_handler(self.complete_upload)
        httpserver.expect_request("/api/chat.update", method="POST").respond_with_handler(self.update)
        httpserver.expect_request("/api/auth.test").respond_with_handler(self.auth_test)
        httpserver.expect_request("/api/usergroups.users.list").respond_with_handler(self.usergroup_users)
        httpserver.expect_request("/api/views.open", method="POST").respond_with_handler(self.views_open)
        httpserver.expect_request("/api/views.update", method="POST").respond_with_handler(self.views_update)
        httpserver.expect_request(re.compile(r"^/actions/\w+/\w+/\w+$"), method="POST").respond_with_handler(
            self.response_url)
        self._base = httpserver.url_for("")

    @staticmethod
    def _ok(**body) -> Response:
        return Response(json.dumps({"ok": True, **body}), 200, content_type="application/json")

    @staticmethod
    def _fail(error: str, status: int = 200, headers: dict | None = None) -> Response:
        return Response(json.dumps({"ok": False, "error": error}), status, headers or {},
                        content_type="application/json")

    def unauthorized(self) -> Response:
        return self._fail("invalid_auth")

    def _gate(self, request: Request) -> Response | None:
        if self.down:
            self.requests.append({"path": request.path})
            return Response("upstream connect error", 500)
        return self._guard(request)

    def post_message(self, request: Request) -> Response:
        if (failure := self._gate(request)) is not None:
            return failure
        if self.delay:
            time.sleep(self.delay)
        body = request.get_json(silent=True) or request.form.to_dict()
        channel = body.get("channel")
        if channel in self.NOT_IN:
            return self._fail("not_in_channel")
        if channel not in self.CHANNELS:
            return self._fail("channel_not_found")
        if block_kit_problem(body.get("blocks")):
            return self._fail("invalid_blocks")
        self._ts += 0.000100
        ts = f"{self._ts:.6f}"
        self.messages.append({**body, "ts": ts, "received": time.monotonic()})
        if self.hold_at is not None and len(self.messages) == self.hold_at:
            self.holding.set()
            self.release.wait(30)
        return self._ok(channel=channel if channel.startswith("C") else "C0SUPPORT", ts=ts,
                        message={"type": "message", "text": body.get("text"), "ts": ts, "bot_id": "B0BOT"})

    def _listed(self, message: dict, with_metadata: bool) -> dict:
        out = {"type": "message", "ts": message["ts"], "text": message.get("text")}
        if message.get("thread_ts"):
            out["thread_ts"] = message["thread_ts"]
        if with_metadata and message.get("metadata"):
            out["metadata"] = message["metadata"]
        return out

    def history(self, request: Request) -> Response:
        if (failure := self._gate(request)) is not None:
            return failure
        args = request.values  # slack_sdk may send GET query args or a POST form
        oldest = float(args.get("oldest", 0))
        found = [self._listed(m, args.get("include_all_metadata") in ("1", "true", "True"))
                 for m in reversed(self.messages) if m["channel"] == args["channel"] and float(m["ts"]) > oldest
                 and not m.get("thread_ts")]
        return self._ok(messages=found, has_more=False)

    def replies(self, request: Request) -> Response:
        if (failure := self._gate(request)) is not None:
            return failure
        args = request.values
        found = [self._listed(m, args.get("include_all_metadata") in ("1", "true", "True"))
                 for m in self.messages if m["channel"] == args["channel"]
                 and (m["ts"] == args["ts"] or m.get("thread_ts") == args["ts"])]
        return self._ok(messages=found, has_more=False)

    def upload_url(self, request: Request) -> Response:
        if (failure := self._gate(request)) is not None:
            return failure
        file_id = f"F{len(self.files) + 1:08d}"
        self.files[file_id] = {"filename": request.values["filename"], "length": int(request.values["length"])}
        if self.upload_url_missing:
            return self._ok(file_id=file_id)
        return self._ok(upload_url=f"{self._base.rstrip('/')}/upload/v1/{file_id}", file_id=file_id)

    def upload(self, request: Request) -> Response:
        file_id = request.path.rsplit("/", 1)[1]
        self.files[file_id]["content"] = request.get_data()
        return Response("OK - 1234", 200, content_type="text/plain")

    def complete_upload(self, request: Request) -> Response:
        if (failure := self._gate(request)) is not None:
            return failure
        channel = request.values.get("channel_id")
        if channel not in self.CHANNELS:
            return self._fail("channel_not_found")
        shared = []
        for item in json.loads(request.values["files"]):
            self.files[item["id"]].update(title=item.get("title"), channel=channel,
                                          thread_ts=request.values.get("thread_ts"))
            shared.append({"id": item["id"], "title": item.get("title")})
        return self._ok(files=shared)

    def auth_test(self, request: Request) -> Response:
        self.calls["auth.test"] = self.calls.get("auth.test", 0) + 1
        if (failure := self._gate(request)) is not None:
            return failure
        return self._ok(url="https://acme.slack.com/", team="Acme", user="complaint-monitor", team_id="T0TEAM",
                        user_id="U0BOT", bot_id="B0BOT", is_enterprise_install=False)

    def usergroup_users(self, request: Request) -> Response:
        """usergroups.users.list: the member ids of one user group (scope usergroups:read)."""
        self.calls["usergroups.users.list"] = self.calls.get("usergroups.users.list", 0) + 1
        if (failure := self._gate(request)) is not None:
            return failure
        group = request.values.get("usergroup")
        if group not in self.usergroups:
            return self._fail("no_such_subteam")
        return self._ok(users=self.usergroups[group])

    def update(self, request: Request) -> Response:
        """chat.update: the message must exist in that channel (by channel ID and ts)."""
        if (failure := self._gate(request)) is not None:
            return failure
        body = request.get_json(silent=True) or request.form.to_dict()
        if not any(m["ts"] == body.get("ts") and m["channel"] == body.get("channel") for m in self.messages):
            return self._fail("message_not_found")
        if body.get("channel") not in self.CHANNELS or not body.get("channel", "").startswith("C"):
            return self._fail("channel_not_found")
        if block_kit_problem(body.get("blocks")):
            return self._fail("invalid_blocks")
        self.updates.append({**body, "received": time.monotonic()})
        return self._ok(channel=body["channel"], ts=body["ts"], text=body.get("text"))

    def views_open(self, request: Request) -> Response:
        """views.open: a modal on a trigger_id (valid 3 seconds after the click; the stand-in only needs one)."""
        if (failure := self._gate(request)) is not None:
            return failure
        body = request.get_json(silent=True) or request.form.to_dict()
        view = json.loads(body["view"]) if isinstance(body.get("view"), str) else body.get("view")
        if not body.get("trigger_id"):
            return self._fail("invalid_trigger_id")
        if (problem := view_problem(view)) is not None:
            return self._fail("invalid_arguments", 200, {"x-problem": problem[:200]})
        view_id = f"V{len(self.views) + 1:08d}"
        self.views[view_id] = view
        self.view_log.append(("views.open", view))
        return self._ok(view={"id": view_id, "hash": f"h{len(self.view_log)}", **view})

    def views_update(self, request: Request) -> Response:
        if (failure := self._gate(request)) is not None:
            return failure
        body = request.get_json(silent=True) or request.form.to_dict()
        view = json.loads(body["view"]) if isinstance(body.get("view"), str) else body.get("view")
        if body.get("view_id") not in self.views:
            return self._fail("not_found")
        if (problem := view_problem(view)) is not None:
            return self._fail("invalid_arguments", 200, {"x-problem": problem[:200]})
        self.views[body["view_id"]] = view
        self.view_log.append(("views.update", view))
        return self._ok(view={"id": body["view_id"], "hash": f"h{len(self.view_log)}", **view})

    def response_url(self, request: Request) -> Response:
        self.responses.append(request.get_json(silent=True) or {})
        return Response("ok", 200, content_type="text/plain")

    def webhook(self, request: Request) -> Response:
        self.requests.append({"path": request.path})
        if self.failures:
            return self.failures.pop(0)
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return Response("invalid_payload", 400, content_type="text/html")
        if not payload.get("text") and not payload.get("blocks"):
            return Response("no_text", 400, content_type="text/html")  # what Slack answers to an empty message
        self.webhook_posts.append(payload)
        return Response("ok", 200, content_type="text/html")


def _input_problem(block) -> str | None:
    element = block.get("element") or {}
    if set(block) - {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"}:
        return "unknown input keys"
    if element.get("type") != "plain_text_input" or not element.get("action_id"):
        return "input element"
    if len(element.get("initial_value") or "") > element.get("max_length", 3000) or element.get("max_length", 0) > 3000:
        return "input initial_value longer than max_length"
    return _text_object_problem(block.get("label"), ("plain_text",), 2000)


def _select_problem(element) -> str | None:
    options = element.get("options") if isinstance(element, dict) else None
    if element.get("type") != "static_select" or not isinstance(options, list) or not 1 <= len(options) <= 100:
        return "static_select needs 1-100 options"
    return next(filter(None, (_text_object_problem(o.get("text"), ("plain_text",), 75) for o in options)), None)


def view_problem(view) -> str | None:
    """What Slack would refuse in a modal (Reference: views): title, submit and close at most 24 characters,
    at most 100 blocks, input blocks, private_metadata within 3,000 characters."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        return "not a modal"
    for key in ("title", "submit", "close"):
        if key in view and _text_object_problem(view[key], ("plain_text",), 24):
            return f"{key} text"
    if len(view.get("private_metadata") or "") > 3000 or len(view.get("callback_id") or "") > 255:
        return "private_metadata or callback_id too long"
    blocks = view.get("blocks") or []
    inputs = [b for b in blocks if b.get("type") == "input"]
    if any(_input_problem(b) for b in inputs):
        return next(_input_problem(b) for b in inputs if _input_problem(b))
    if inputs and "submit" not in view:
        return "a modal with inputs needs submit"
    actions = [b for b in blocks if b.get("type") == "actions"]
    for block in actions:
        for element in block.get("elements", []):
            problem = _select_problem(element) if element.get("type") == "static_select" else _button_problem(element)
            if problem:
                return problem
    return block_kit_problem([b for b in blocks if b.get("type") not in ("input", "actions")])


SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the format of Slack's documented example


def block_action(base_url: str, case_id: int, action: str, user: str, ts: str, channel: str = "C0SUPPORT") -> dict:
    """A block_actions interaction payload as Slack sends it when a button is clicked."""
    return {
        "type": "block_actions", "api_app_id": "A0MONITOR", "token": "verification-token-unused",
        "team": {"id": "T0TEAM", "domain": "acme"}, "trigger_id": "1234567890.0987654321.abcdef",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEAM"},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "support"},
        "message": {"type": "message", "ts": ts, "bot_id": "B0BOT", "text": "Complaint about Pixelcart"},
        "response_url": f"{base_url.rstrip('/')}/actions/T0TEAM/{case_id}{user}/hook",
        "actions": [{"type": "button", "action_id": f"case_{action}", "block_id": f"case_{case_id}",
                     "text": {"type": "plain_text", "text": action}, "value": str(case_id),
                     "action_ts": f"{time.time():.6f}"}],
    }


def signed_request(payload: dict, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    """The form body and headers of an interaction request, signed as Slack documents (v0, HMAC-SHA256)."""
    import hashlib
    import hmac
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(payload)})
    # The machine's clock, not monitor.clock: slack-bolt checks the timestamp against time.time() itself.
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                           "X-Slack-Signature": f"v0={digest}"}


class FakeSocketMode:
    """Slack's Socket Mode end: apps.connections.open (with the xapp- token) answers a ws:// URL on 127.0.0.1;
    the WebSocket greets with "hello", sends each queued envelope and records the client's acknowledgements."""

    APP_TOKEN = "xapp-1-A0MONITOR-1234-abcdef"

    def __init__(self) -> None:
        import queue

        from websockets.sync.server import serve

        self.envelopes: queue.Queue[dict] = queue.Queue()
        self.acks: list[dict] = []
        self.connections = 0
        self.sent = 0  # envelopes queued so far: each gets its own id
        self.server = serve(self._session, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def install(self, httpserver) -> None:
        httpserver.expect_request("/api/apps.connections.open", method="POST").respond_with_handler(self.open)

    def open(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.APP_TOKEN}":
            return Response(json.dumps({"ok": False, "error": "invalid_auth"}), 200, content_type="application/json")
        return Response(json.dumps({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=t-1&app_id=A0"}),
                        200, content_type="application/json")

    def send(self, payload: dict) -> str:
        self.sent += 1
        envelope_id = f"env-{self.sent}"
        # A view submission's acknowledgement may carry a response (errors, an updated view), as Slack documents.
        self.envelopes.put({"envelope_id": envelope_id, "payload": payload, "type": "interactive",
                            "accepts_response_payload": payload.get("type") == "view_submission"})
        return envelope_id

    def _session(self, connection) -> None:
        import queue

        self.connections += 1
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                                    "connection_info": {"app_id": "A0MONITOR"}}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                connection.send(json.dumps(self.envelopes.get(timeout=0.05)))
            except queue.Empty:
                pass
            try:
                message = connection.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - the client went away
                return
            if isinstance(message, str) and message.startswith("{"):
                self.acks.append(json.loads(message))

    def close(self) -> None:
        self.server.shutdown()
