"""The server's guard, ASGI middleware in server.py: what Streamlit's own routes leave open.

- No websocket client empties every session's caches: Streamlit answers a `clear_cache` message from any client
  (even one with no cookie) by clearing the caches of all sessions (streamlit/runtime/app_session.py,
  ``_handle_clear_cache_request``). The message is dropped here; an admin clears cached results from the
  Data page, where the role is known.
- With sign-in configured, the sign-in cookie lives ``session_hours`` (default 8) instead of Streamlit's 30
  days: its Max-Age is rewritten, and the server refuses an older one whatever the browser kept. Signing out
  revokes the cookie on the server, so a copy replayed later signs nobody in.
- With sign-in configured, the server's metrics, media (downloads, charts' files) and upload routes need a
  valid sign-in cookie. /_stcore/health stays open for load balancers.
- A file is taken only into a session whose Data page shows the uploader, to a role that may load
  (``allow_uploads``): Streamlit keeps any file PUT into any live session in memory until the session ends, up
  to the upload limit each and as many as sent, so a viewer's hand-made client could otherwise fill the
  server's memory.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

USER_COOKIE = "_streamlit_user"
#: Every cookie of Streamlit's sign-in: the identity, the provider's tokens, and their chunks (``_1``, ``_2``…).
AUTH_COOKIE = re.compile(r"^_streamlit_user(_tokens)?(_\d+)?$")
#: Routes that serve a session's data or the server's state: signed-in visitors only (when sign-in is on).
UPLOAD = "/_stcore/upload_file/"
PROTECTED = ("/_stcore/metrics", "/media/", UPLOAD)
LOGOUT = "/auth/logout"
DEFAULT_SESSION_HOURS = 8.0
_MAX_AGE = re.compile(rb"(?i)max-age=(\d+)")

# Sessions that show the uploader to a role that may load now (the Data page says so each time it runs).
_uploaders: set[str] = set()
_uploaders_lock = threading.Lock()


def allow_uploads(allowed: bool) -> None:
    """Whether the running session takes uploaded files: the Data page calls this as it draws (or not) the
    uploader; ended sessions are forgotten."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:  # outside a session (a bare-mode run): no upload route either
        return
    with _uploaders_lock:
        if allowed:
            live = Runtime.instance() if Runtime.exists() else None
            for gone in [s for s in _uploaders if live is not None and not live.is_active_session(s)]:
                _uploaders.discard(gone)
            _uploaders.add(ctx.session_id)
        else:
            _uploaders.discard(ctx.session_id)


def _takes_uploads(session_id: str) -> bool:
    with _uploaders_lock:
        return session_id in _uploaders


def _settings() -> tuple[bool, str | None, float]:
    """(sign-in configured, cookie secret, session hours), read from secrets.toml at each request."""
    from streamlit.runtime.secrets import secrets_singleton

    try:
        auth = secrets_singleton.get("auth") if secrets_singleton.load_if_toml_exists() else None
        own = secrets_singleton.get("liftboard") or {}
    except Exception:  # an unreadable secrets file: Streamlit reports it to the page; no sign-in here
        return False, None, DEFAULT_SESSION_HOURS
    hours = float(own.get("session_hours", DEFAULT_SESSION_HOURS))
    if not auth:
        return False, None, hours
    return True, auth.get("cookie_secret"), hours


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed header: treated as no cookie
                continue
    return {k: m.value for k, m in jar.items()}


def _without_auth_cookies(scope: Scope) -> Scope:
    """The request as if it carried no sign-in cookie (other cookies, such as XSRF, are kept)."""
    kept = "; ".join(f"{k}={v}" for k, v in _cookies(scope).items() if not AUTH_COOKIE.match(k))
    headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"cookie"]
    if kept:
        headers.append((b"cookie", kept.encode("latin-1")))
    return {**scope, "headers": headers}


class Guard:
    """ASGI middleware around Streamlit's app (``st.App(..., middleware=[Middleware(Guard)])``)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self._revoked: dict[str, float] = {}  # sha256 of a signed identity cookie -> when to forget it
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            receive = _drop_clear_cache(receive)
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if scope.get("method") == "PUT" and path.startswith(UPLOAD):
            if not _takes_uploads(path[len(UPLOAD) :].split("/", 1)[0]):
                await _refuse(send, b"Uploads are taken on the Data page, for roles that may load data.")
                return
        configured, secret, hours = _settings()
        if not configured:
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        token = cookies.get(USER_COOKIE)
        valid = token is not None and secret is not None and self._valid(token, secret, hours)
        if not valid and any(AUTH_COOKIE.match(k) for k in cookies):
            scope = _without_auth_cookies(scope)  # Streamlit then sees a visitor who has not signed in
        if scope["type"] == "http":
            if not valid and path.startswith(PROTECTED):
                await _refuse(send)
                return
            if valid and token is not None and path.endswith(LOGOUT):
                self._revoke(token, hours)
            send = _short_cookies(send, int(hours * 3600))
        await self.app(scope, receive, send)

    def _valid(self, token: str, secret: str, hours: float) -> bool:
        """Signed with the secret, younger than the session lifetime, and not signed out."""
        from itsdangerous import BadSignature, URLSafeTimedSerializer

        if self._is_revoked(token):
            return False
        try:
            URLSafeTimedSerializer(secret, salt=USER_COOKIE).loads(token, max_age=hours * 3600)
        except BadSignature:  # SignatureExpired is a BadSignature
            return False
        return True

    def _is_revoked(self, token: str) -> bool:
        with self._lock:
            return hashlib.sha256(token.encode()).hexdigest() in self._revoked

    def _revoke(self, token: str, hours: float) -> None:
        now = time.time()
        with self._lock:
            # A revoked cookie would expire by itself after the lifetime: forget it then.
            for key in [k for k, until in self._revoked.items() if until < now]:
                del self._revoked[key]
            self._revoked[hashlib.sha256(token.encode()).hexdigest()] = now + hours * 3600 + 60


def _drop_clear_cache(receive: Receive) -> Receive:
    """The websocket's messages minus `clear_cache` requests (the rest reach Streamlit unchanged)."""

    async def guarded() -> Message:
        while True:
            message = await receive()
            data = message.get("bytes") if message.get("type") == "websocket.receive" else None
            if data:
                msg = BackMsg()
                try:
                    msg.ParseFromString(data)
                except Exception:  # not a BackMsg: Streamlit answers it as it would
                    return message
                if msg.WhichOneof("type") == "clear_cache":
                    continue
            return message

    return guarded


def _short_cookies(send: Send, seconds: int) -> Send:
    """Shorten the Max-Age of Streamlit's sign-in cookies to the session lifetime (a deletion, 0, stays 0)."""

    def shorter(match: re.Match[bytes]) -> bytes:
        return f"Max-Age={min(int(match.group(1)), seconds)}".encode()

    async def sending(message: Message) -> None:
        if message.get("type") == "http.response.start":
            headers = []
            for key, value in message.get("headers", ()):
                if key.lower() == b"set-cookie":
                    name = value.split(b"=", 1)[0].decode("latin-1").strip()
                    if AUTH_COOKIE.match(name):
                        value = _MAX_AGE.sub(shorter, value)
                headers.append((key, value))
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _refuse(send: Send, body: bytes = b"Sign in to Liftboard first.") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
