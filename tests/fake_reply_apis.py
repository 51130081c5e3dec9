"""Local stand-ins for the networks' write APIs that public replies use, answering in their documented
formats: a Mastodon instance (statuses, search, verify_credentials, instance), a Bluesky PDS
(createRecord, getRecord, getPosts), the X API v2 (POST /2/tweets, users/me, tweets lookup), Reddit
(/api/comment, /api/info), Google Play's Android Publisher (reviews.get / reviews.reply) and App Store Connect
(customerReviews, customerReviewResponses).

Each keeps what was posted, so a test sees the reply "appear under the post", and answers scripted failures
(``failures``) first, so a refusal, a timeout or a double request is tried on the wire.
"""
from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs

from werkzeug import Request, Response

from monitor import clock
from tests.fake_apis import FakeReddit
from tests.fake_sources import FakeBluesky, Recorder, _json


class FakeMastodonInstance(Recorder):
    """The brand account's instance: POST /api/v1/statuses (Idempotency-Key honoured), GET /api/v2/search
    (resolve), /api/v1/accounts/verify_credentials, /api/v1/accounts/:id/statuses and /api/v2/instance."""

    TOKEN = "brand-mastodon-token"
    ACCOUNT = {"id": "7001", "username": "acmehelp", "acct": "acmehelp", "display_name": "Acme Help",
               "followers_count": 5000}

    def __init__(self, max_characters: int = 500) -> None:
        super().__init__()
        self.max_characters = max_characters
        self.reported: int | None = None   # the limit /api/v2/instance states, when it differs from the real one
        self.known: dict[str, str] = {}    # a remote post's URL or URI -> its local id here
        self.posted: list[dict] = []       # the account's statuses, oldest first
        self.keys: dict[str, dict] = {}    # Idempotency-Key -> the status it created
        self.delay = 0.0                   # seconds before answering a POST (timeouts)
        self.next_id = 113_500_000_000_000_000

    def install(self, httpserver) -> None:
        httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_handler(self.post_status)
        httpserver.expect_request("/api/v2/search").respond_with_handler(self.search)
        httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_handler(self.me)
        httpserver.expect_request(f"/api/v1/accounts/{self.ACCOUNT['id']}/statuses") \
            .respond_with_handler(self.statuses)
        httpserver.expect_request(re.compile(r"^/api/v[12]/instance/?$")).respond_with_handler(self.instance)

    def remote(self, url: str, uri: str) -> str:
        self.next_id += 7
        self.known[url] = self.known[uri] = str(self.next_id)
        return str(self.next_id)

    def _auth(self, request: Request) -> Response | None:
        failure = self._seen(request)
        if failure:
            return failure
        if request.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return _json({"error": "The access token is invalid"}, 401)
        return None

    def instance(self, request: Request) -> Response:
        return _json({"domain": "brand.example", "uri": "brand.example", "version": "4.3.0",
                      "api_versions": {"mastodon": 2}, "configuration": {
            "statuses": {"max_characters": self.reported or self.max_characters, "max_media_attachments": 4,
                         "characters_reserved_per_url": 23}}})

    def me(self, request: Request) -> Response:
        return self._auth(request) or _json(self.ACCOUNT)

    def search(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused:
            return refused
        local = self.known.get(request.args.get("q", ""))
        found = [{"id": local, "uri": request.args["q"], "url": request.args["q"], "content": "<p>…</p>"}] \
            if local and request.args.get("resolve") in ("true", "1", "True") else []
        return _json({"accounts": [], "statuses": found, "hashtags": []})

    def post_status(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused:
            return refused
        if self.delay:
            time.sleep(self.delay)
        form = request.get_json(silent=True) or {k: v for k, v in request.form.items()}
        key = request.headers.get("Idempotency-Key")
        if key and key in self.keys:
            return _json(self.keys[key])
        text = form.get("status") or ""
        if len(re.sub(r"https?://\S+", "x" * 23, text)) > self.max_characters:  # a link counts 23
            return _json({"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}, 422)
        if str(form.get("in_reply_to_id")) not in self.known.values():
            return _json({"error": "Record not found"}, 404)
        self.next_id += 11
        sid = str(self.next_id)
        status = {"id": sid, "uri": f"https://brand.example/users/acmehelp/statuses/{sid}",
                  "url": f"https://brand.example/@acmehelp/{sid}", "in_reply_to_id": str(form["in_reply_to_id"]),
                  "visibility": form.get("visibility", "public"), "content": f"<p>{_html(text)}</p>",
                  "created_at": clock.utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z"), "account": self.ACCOUNT}
        self.posted.append(status)
        if key:
            self.keys[key] = status
        return _json(status)

    def statuses(self, request: Request) -> Response:
        return self._auth(request) or _json(list(reversed(self.posted)))


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FakeBlueskyPds(FakeBluesky):
    """The brand account's PDS on top of the search stand-in: app.bsky.feed.getPosts, and
    com.atproto.repo.createRecord / getRecord with record keys that can be taken once."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, dict] = {}  # rkey -> {"uri", "cid", "value"}
        self.delay = 0.0
        self.create_failures: list[Response] = []  # answered by createRecord only

    def install(self, httpserver) -> None:
        super().install(httpserver)
        httpserver.expect_request("/xrpc/app.bsky.feed.getPosts").respond_with_handler(self.get_posts)
        httpserver.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST") \
            .respond_with_handler(self.create_record)
        httpserver.expect_request("/xrpc/com.atproto.repo.getRecord").respond_with_handler(self.get_record)

    def _authed(self, request: Request) -> Response | None:
        failure = self._seen(request)
        if failure:
            return failure
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0) < clock.timestamp():
            return _json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        return None

    def get_posts(self, request: Request) -> Response:
        refused = self._authed(request)
        if refused:
            return refused
        wanted = request.args.getlist("uris")
        return _json({"posts": [p for p in self.posts if p["uri"] in wanted]})

    def create_record(self, request: Request) -> Response:
        refused = self._authed(request)
        if refused:
            return refused
        if self.delay:
            time.sleep(self.delay)
        if self.create_failures:
            return self.create_failures.pop(0)
        body = request.get_json()
        record, rkey = body["record"], body.get("rkey")
        if body.get("repo") != self.DID or body.get("collection") != "app.bsky.feed.post":
            return _json({"error": "InvalidRequest", "message": "Invalid repo or collection"}, 400)
        if len(record.get("text", "")) > 3000 or _graphemes(record.get("text", "")) > 300:
            return _json({"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: Record/text "
                                                               "must not be longer than 300 graphemes"}, 400)
        if rkey in self.records:
            return _json({"error": "InvalidRequest", "message": "Record already exists"}, 400)
        parent = record.get("reply", {}).get("parent", {}).get("uri")
        if parent not in {p["uri"] for p in self.posts}:
            return _json({"error": "InvalidRequest", "message": "Parent post not found"}, 400)
        uri = f"at://{self.DID}/app.bsky.feed.post/{rkey}"
        self.records[rkey] = {"uri": uri, "cid": f"bafyreib{len(self.records):020d}", "value": record}
        return _json({"uri": uri, "cid": self.records[rkey]["cid"], "validationStatus": "valid",
                      "commit": {"cid": "bafyreicommit", "rev": "3lrev"}})

    def get_record(self, request: Request) -> Response:
        refused = self._authed(request)
        if refused:
            return refused
        found = self.records.get(request.args.get("rkey", ""))
        if found is None:
            return _json({"error": "RecordNotFound", "message": "Could not locate record"}, 400)
        return _json(found)


def _graphemes(text: str) -> int:
    from replies._counting import grapheme_count

    return grapheme_count(text)


def form_of(request: Request) -> dict:
    return {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()} or request.form.to_dict()


def problem_json(status: int, detail: str, title: str = "Forbidden") -> Response:
    return Response(json.dumps({"title": title, "detail": detail, "type": "about:blank", "status": status}), status,
                    content_type="application/problem+json")


class FakeXWrite(Recorder):
    """The X API v2 as the brand account's user token sees it: GET /2/users/me, GET /2/tweets/:id (with
    referenced tweets expanded), POST /2/tweets (a reply, refused with 403 unless the author engaged the
    account, as self-serve plans do) and GET /2/users/:id/tweets."""

    TOKEN = "brand-x-user-token"
    ME = {"id": "900", "name": "Pixelcart Help", "username": "pixelcart"}

    def __init__(self) -> None:
        super().__init__()
        self.tweets: dict[str, dict] = {}
        self.next_id = 1_870_000_000_000_000_000
        self.delay = 0.0

    def install(self, httpserver) -> None:
        httpserver.expect_request("/2/users/me").respond_with_handler(self.me)
        httpserver.expect_request(re.compile(r"^/2/tweets/\d+$")).respond_with_handler(self.lookup)
        httpserver.expect_request("/2/tweets", method="POST").respond_with_handler(self.create)
        httpserver.expect_request(f"/2/users/{self.ME['id']}/tweets").respond_with_handler(self.timeline)

    def tweet(self, text: str, author_id: str = "101", **more) -> str:
        self.next_id += 1000
        ident = str(self.next_id)
        self.tweets[ident] = {"id": ident, "text": text, "author_id": author_id, "edit_history_tweet_ids": [ident],
                              **more}
        return ident

    def _auth(self, request: Request) -> Response | None:
        failure = self._seen(request)
        if failure:
            return failure
        if request.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return problem_json(401, "Unauthorized", "Unauthorized")
        return None

    def me(self, request: Request) -> Response:
        return self._auth(request) or _json({"data": self.ME})

    def lookup(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused:
            return refused
        ident = request.path.rsplit("/", 1)[1]
        tweet = self.tweets.get(ident)
        if tweet is None:
            return _json({"errors": [{"value": ident, "detail": f"Could not find tweet with id: [{ident}].",
                                      "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                                      "resource_id": ident,
                                      "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        body = {"data": tweet}
        referenced = [self.tweets[r["id"]] for r in tweet.get("referenced_tweets", []) if r["id"] in self.tweets]
        if referenced and "referenced_tweets.id" in request.args.get("expansions", ""):
            body["includes"] = {"tweets": referenced}
        return _json(body)

    def _engaged(self, tweet: dict) -> bool:
        me = self.ME
        quoted = [self.tweets.get(r["id"], {}) for r in tweet.get("referenced_tweets", []) if r["type"] == "quoted"]
        return (f"@{me['username']}" in tweet["text"].lower() or tweet.get("in_reply_to_user_id") == me["id"]
                or any(q.get("author_id") == me["id"] for q in quoted))

    def create(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused:
            return refused
        if self.delay:
            time.sleep(self.delay)
        body = request.get_json()
        parent = self.tweets.get(body.get("reply", {}).get("in_reply_to_tweet_id"))
        if parent is None:
            return problem_json(400, "One or more parameters to your request was invalid.", "Invalid Request")
        if not self._engaged(parent):
            return problem_json(403, "Reply to this conversation is not allowed because you have not been mentioned "
                                     "or otherwise engaged by the author of the post you are replying to.")
        ident = self.tweet(body["text"], self.ME["id"], referenced_tweets=[{"type": "replied_to", "id": parent["id"]}],
                           in_reply_to_user_id=parent["author_id"])
        return _json({"data": {"id": ident, "text": body["text"], "edit_history_tweet_ids": [ident]}}, 201)

    def timeline(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused:
            return refused
        mine = [t for t in reversed(self.tweets.values()) if t["author_id"] == self.ME["id"]]
        return _json({"data": mine, "meta": {"result_count": len(mine)}} if mine else {"meta": {"result_count": 0}})

    def replies(self) -> list[dict]:
        return [t for t in self.tweets.values() if t["author_id"] == self.ME["id"]]


class FakeRedditAccount(FakeReddit):
    """Reddit for a script app acting as the brand's account: the password grant, GET /api/v1/me and
    /api/info, POST /api/comment (refused in a locked thread with Reddit's THREAD_LOCKED)."""

    USERNAME, PASSWORD = "pixelcart_support", "hunter2-but-longer"

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.locked_on_post = False  # the thread is locked by the time the comment arrives

    def install(self, httpserver) -> None:
        super().install(httpserver)
        httpserver.expect_request("/api/v1/me").respond_with_handler(self.me)
        httpserver.expect_request("/api/info/").respond_with_handler(self.info)
        httpserver.expect_request("/api/info").respond_with_handler(self.info)
        httpserver.expect_request("/api/comment/", method="POST").respond_with_handler(self.post_comment)
        httpserver.expect_request("/api/comment", method="POST").respond_with_handler(self.post_comment)

    def access_token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") == "password" and (form.get("username"), form.get("password")) != (
                self.USERNAME, self.PASSWORD):
            return Response(json.dumps({"error": "invalid_grant"}), 200, content_type="application/json")
        return super().access_token(request)

    def me(self, request: Request) -> Response:
        return self._guard(request) or _json({"name": self.USERNAME, "id": "abc12", "created_utc": 1.6e9})

    def info(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        wanted = set(request.args.get("id", "").split(","))
        found = [t for t in self.things if t["data"]["name"] in wanted]
        return _json({"kind": "Listing", "data": {"after": None, "dist": len(found), "children": found,
                                                  "before": None, "modhash": ""}})

    def post_comment(self, request: Request) -> Response:
        if (failure := self._guard(request)) is not None:
            return failure
        if self.delay:
            time.sleep(self.delay)
        parent = next((t for t in self.things if t["data"]["name"] == request.form.get("thing_id")), None)
        if parent is not None and (parent["data"].get("locked") or self.locked_on_post):
            return _json({"json": {"errors": [["THREAD_LOCKED", "Comments are locked.", "parent"]]}})
        if parent is None:
            return _json({"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "parent"]]}})
        name = self.comment(request.form["text"], author=self.USERNAME, parent=parent["data"]["name"])
        thing = next(t for t in self.things if t["data"]["name"] == name)
        return _json({"json": {"errors": [], "data": {"things": [thing]}}})

    def replies(self) -> list[dict]:
        return [t["data"] for t in self.things if t["data"].get("author") == self.USERNAME]


def _verified_claims(request: Request, public_key, algorithm: str) -> dict | None:
    """The claims of the request's bearer JWT when its signature verifies with ``public_key``, else None."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    token = request.headers.get("Authorization", "").removeprefix("Bearer ") if algorithm == "ES256" else \
        request.form.get("assertion", "")
    try:
        head, body, signature = token.split(".")
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        signed = f"{head}.{body}".encode()
        if algorithm == "ES256":
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(raw, signed, padding.PKCS1v15(), hashes.SHA256())
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, InvalidSignature):
        return None
    return claims if header.get("alg") == algorithm else None


class FakeGooglePlayPublisher(Recorder):
    """Google's token endpoint (a service account's RS256 assertion for an access token) and the Android
    Publisher API's reviews.get and reviews.reply, with Google's error envelope."""

    PACKAGE = "com.pixelcart.app"

    def __init__(self, public_key) -> None:
        super().__init__()
        self.public_key = public_key
        self.reviews: dict[str, dict] = {}
        self.replies: dict[str, str] = {}
        self.delay = 0.0
        self.reply_calls = 0

    def install(self, httpserver) -> None:
        httpserver.expect_request("/token", method="POST").respond_with_handler(self.token)
        base = f"/androidpublisher/v3/applications/{self.PACKAGE}/reviews/"
        httpserver.expect_request(re.compile(rf"^{re.escape(base)}[^/]+:reply$"), method="POST") \
            .respond_with_handler(self.reply)
        httpserver.expect_request(re.compile(rf"^{re.escape(base)}[^/]+$"), method="GET").respond_with_handler(self.get)

    def token(self, request: Request) -> Response:
        self._seen(request)
        claims = _verified_claims(request, self.public_key, "RS256")
        if claims is None or claims.get("scope") != "https://www.googleapis.com/auth/androidpublisher":
            return _json({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
        return _json({"access_token": "ya29.fake-access", "expires_in": 3599, "token_type": "Bearer"})

    def _refused(self, request: Request) -> Response | None:
        failure = self._seen(request)
        if failure:
            return failure
        if request.headers.get("Authorization") != "Bearer ya29.fake-access":
            return _json({"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                    "status": "UNAUTHENTICATED"}}, 401)
        return None

    def get(self, request: Request) -> Response:
        review_id = request.path.rsplit("/", 1)[1]
        refused = self._refused(request)
        if refused or review_id not in self.reviews:
            return refused or _json({"error": {"code": 404, "message": "No review found.", "status": "NOT_FOUND"}},
                                    404)
        comments = [{"userComment": {"text": self.reviews[review_id]["text"], "starRating": 1}}]
        if review_id in self.replies:
            comments.append({"developerComment": {"text": self.replies[review_id],
                                                  "lastModified": {"seconds": str(int(clock.timestamp()))}}})
        return _json({"reviewId": review_id, "authorName": self.reviews[review_id]["author"], "comments": comments})

    def reply(self, request: Request) -> Response:
        review_id = request.path.rsplit("/", 1)[1].removesuffix(":reply")
        refused = self._refused(request)
        if refused:
            return refused
        self.reply_calls += 1
        if self.delay:
            time.sleep(self.delay)
        text = (request.get_json() or {}).get("replyText", "")
        if len(text) > 350:
            return _json({"error": {"code": 400, "message": "Reply text too long (max 350 characters).",
                                    "status": "INVALID_ARGUMENT"}}, 400)
        self.replies[review_id] = text
        return _json({"result": {"replyText": text, "lastEdited": {"seconds": str(int(clock.timestamp()))}}})


class FakeAppStoreConnect(Recorder):
    """App Store Connect with ES256 API-key JWTs: GET /v1/apps, /v1/apps/{id}/customerReviews,
    /v1/customerReviews/{id}/response, and POST /v1/customerReviewResponses (one response per review)."""

    APP = "1480120"

    def __init__(self, public_key, key_id: str, issuer: str) -> None:
        super().__init__()
        self.public_key, self.key_id, self.issuer = public_key, key_id, issuer
        self.reviews: list[dict] = []
        self.responses: dict[str, dict] = {}
        self.delay = 0.0

    def install(self, httpserver) -> None:
        httpserver.expect_request("/v1/apps").respond_with_handler(self.apps)
        httpserver.expect_request(f"/v1/apps/{self.APP}/customerReviews").respond_with_handler(self.list_reviews)
        httpserver.expect_request(re.compile(r"^/v1/customerReviews/[\w-]+/response$")) \
            .respond_with_handler(self.response_of)
        httpserver.expect_request("/v1/customerReviewResponses", method="POST").respond_with_handler(self.respond)

    def review(self, title: str, body: str, nickname: str) -> str:
        ident = f"00000011-{len(self.reviews):04d}-aaaa-bbbb-cccc{len(self.reviews):08d}"
        self.reviews.append({"type": "customerReviews", "id": ident, "attributes": {
            "rating": 1, "title": title, "body": body, "reviewerNickname": nickname,
            "createdDate": clock.utcnow().strftime("%Y-%m-%dT%H:%M:%S-07:00"), "territory": "USA"}})
        return ident

    def _refused(self, request: Request) -> Response | None:
        failure = self._seen(request)
        if failure:
            return failure
        claims = _verified_claims(request, self.public_key, "ES256")
        if claims is None or claims.get("iss") != self.issuer or claims.get("aud") != "appstoreconnect-v1" \
                or claims["exp"] - claims["iat"] > 1200 or claims["exp"] < clock.timestamp():
            return _json({"errors": [{"status": "401", "code": "NOT_AUTHORIZED", "title": "Authentication "
                                      "credentials are missing or invalid.", "detail": "Provide a properly "
                                      "configured and signed bearer token, and make sure that it has not expired."}]},
                         401)
        return None

    def apps(self, request: Request) -> Response:
        return self._refused(request) or _json({"data": [{"type": "apps", "id": self.APP}]})

    def list_reviews(self, request: Request) -> Response:
        return self._refused(request) or _json({"data": list(reversed(self.reviews)), "links": {}})

    def response_of(self, request: Request) -> Response:
        refused = self._refused(request)
        found = self.responses.get(request.path.split("/")[3])
        if refused or found is None:
            return refused or _json({"errors": [{"status": "404", "code": "NOT_FOUND", "title": "The specified "
                                                 "resource does not exist"}]}, 404)
        return _json({"data": found})

    def respond(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        if self.delay:
            time.sleep(self.delay)
        data = (request.get_json() or {}).get("data", {})
        review = data.get("relationships", {}).get("review", {}).get("data", {}).get("id")
        if review in self.responses:
            return _json({"errors": [{"status": "409", "code": "ENTITY_ERROR.ALREADY_EXISTS", "title": "Conflict",
                                      "detail": "A response to this review already exists."}]}, 409)
        self.responses[review] = {"type": "customerReviewResponses", "id": f"resp-{len(self.responses) + 1}",
                                  "attributes": {"responseBody": data["attributes"]["responseBody"],
                                                 "state": "PENDING_PUBLISH"}}
        return _json({"data": self.responses[review]}, 201)
