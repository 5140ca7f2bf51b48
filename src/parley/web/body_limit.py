"""Request body caps, checked before anything parses the body.

A request whose ``Content-Length`` is over its cap is answered 413 without running the app;
a body sent in chunks (or with a false length) is counted as it is read and reading stops
at the cap with the same 413. Without this an anonymous caller could make the server read
and parse a 50 MB login body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE = "body_too_large"
MESSAGE = "The request is too large."


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; an HTTPException, so FastAPI's body parsing passes it on to
    the app's handler for these instead of turning it into a 400."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail=MESSAGE)


class BodyLimit:
    """ASGI middleware: ``limit_for(path)`` bytes at most per HTTP request body; ``respond``
    builds the 413 (the API's error body) when the app cannot, before it ran or after it
    let the error through."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int],
                 respond: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self.limit_for = limit_for
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No "Connection: close": the server then discards the rest of the body unparsed and
        # the client reads the 413, where closing at once would reset it mid-upload.
        response = await self.respond(Request(scope, receive))
        await response(scope, receive, send)
