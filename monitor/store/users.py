"""The web inbox's users and signed-in sessions. Passwords are kept as scrypt hashes (the standard library's,
memory-hard); a session cookie's token is kept only as its SHA-256, beside the session's CSRF token."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import users, web_sessions

ROLES = ("agent", "viewer")
# 32 MiB and about 50 ms a check here: slow enough to make guessing stolen hashes expensive.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
NAME_RULE = "1 to 64 letters, digits, dots, dashes, underscores or @"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def password_matches(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))



def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2, dklen=32)


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so an unknown name takes as long to refuse as a wrong one."""
    return hash_password(secrets.token_hex(8))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    created_at: datetime
    last_login_at: datetime | None = None

    @property
    def can_act(self) -> bool:
        return self.role == "agent"


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SignIn:
    """A sign-in attempt's outcome: the new session's cookie token, or why there is none."""

    token: str | None = None
    session: Session | None = None
    locked_for: timedelta | None = None   # the name is locked this much longer


def _user(row) -> User:
    return User(row.id, row.name, row.role, row.created_at, row.last_login_at)


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, role: str, password: str) -> User:
        """A new user; ValueError when the name is taken or the role unknown."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; use {' or '.join(ROLES)}")
        with self.db.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(func.lower(users.c.name) == name.lower())).first():
                raise ValueError(f"there is already a user named {name!r}")
            conn.execute(insert(users).values(name=name, role=role, password_hash=hash_password(password),
                                              created_at=utcnow(), failed_logins=0))
            return _user(conn.execute(select(users).where(users.c.name == name)).one())

    def set_password(self, name: str, password: str) -> bool:
        with self.db.engine.begin() as conn:
            changed = conn.execute(update(users).where(users.c.name == name).values(
                password_hash=hash_password(password), failed_logins=0, locked_until=None)).rowcount
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id.in_(
                select(users.c.id).where(users.c.name == name))))
        return bool(changed)

    def remove(self, name: str) -> bool:
        """Removes the user and signs out every browser they are signed in on."""
        with self.db.engine.begin() as conn:
            ident = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if ident is None:
                return False
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == ident))
            conn.execute(delete(users).where(users.c.id == ident))
        return True

    def all(self) -> list[User]:
        with self.db.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]

    def sign_in(self, name: str, password: str, lifetime: float, max_failures: int, lockout: float) -> SignIn:
        """Checks the password and opens a session. A locked name is refused whatever the password, and the
        check costs the same for an unknown name, a wrong password and a locked name."""
        now = utcnow()
        with self.db.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        matches = password_matches(password, row.password_hash if row else _dummy_hash())
        if row is None:
            return SignIn()
        if row.locked_until is not None and row.locked_until > now:
            return SignIn(locked_for=row.locked_until - now)
        if not matches:
            return self._failed(row, now, max_failures, lockout)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + timedelta(seconds=lifetime)
        with self.db.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None,
                                                                          last_login_at=now))
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id,
                                                    web_sessions.c.expires_at <= now))
            conn.execute(insert(web_sessions).values(token_hash=token_hash(token), user_id=row.id, csrf_token=csrf,
                                                     created_at=now, expires_at=expires))
        return SignIn(token, Session(_user(row), csrf, expires))

    def _failed(self, row, now: datetime, max_failures: int, lockout: float) -> SignIn:
        failures = row.failed_logins + 1
        locked = now + timedelta(seconds=lockout) if failures >= max_failures else None
        with self.db.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == row.id).values(
                failed_logins=0 if locked else users.c.failed_logins + 1, locked_until=locked))
        return SignIn(locked_for=timedelta(seconds=lockout) if locked else None)

    def session(self, token: str) -> Session | None:
        """The signed-in user of a cookie's token, while the session lasts."""
        if not token or len(token) > 128:
            return None
        stmt = (select(web_sessions.c.csrf_token, web_sessions.c.expires_at, users)
                .join(users, users.c.id == web_sessions.c.user_id)
                .where(web_sessions.c.token_hash == token_hash(token), web_sessions.c.expires_at > utcnow()))
        with self.db.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return Session(_user(row), row.csrf_token, row.expires_at) if row else None

    def sign_out(self, token: str) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash(token)))
