"""``vitalflow serve``: the dashboard, its JSON, a websocket of pipeline events, Data Docs and reports.

The board lives in memory: built once from the event log, then moved by each new line of it, which
a background task reads as it is appended (every ``POLL_S``) and pushes to every open websocket.
So a request never lists the lake, and an event reaches the screen well within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from vitalflow import lake
from vitalflow.dashboard.board import Board
from vitalflow.dashboard.events import EventLog
from vitalflow.dashboard.report import report_page, stored_record

POLL_S = 0.1
COOKIE = "vitalflow_token"
_BATCH_ID = re.compile(r"^[0-9a-f]{16}$")
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class Hub:
    """The board and the open websockets, each with its own queue (a slow browser delays only itself)."""

    log: EventLog
    board: Board = field(default_factory=Board)
    queues: set[asyncio.Queue[str]] = field(default_factory=set)

    def catch_up(self) -> int:
        """Fold the log's new lines into the board (at start, before serving); how many were read."""
        return self.fold(self.log.read_new())

    def fold(self, events: list[dict[str, Any]]) -> int:
        """Apply events and queue each changed row for every websocket."""
        for event in events:
            row = self.board.apply(event)
            if row is None:
                continue
            text = json.dumps(row.message(str(event["detail-type"]), self.board.replaced))
            for queue in self.queues:
                queue.put_nowait(text)
        return len(events)

    async def follow(self) -> None:
        """Read the log off the event loop, but fold on it: requests read the board meanwhile."""
        while True:
            self.fold(await asyncio.to_thread(self.log.read_new))
            await asyncio.sleep(POLL_S)


def page() -> str:
    return resources.files("vitalflow").joinpath("resources/dashboard/index.html").read_text("utf-8")


class Pages:
    """The app's handlers over one lake; the board is only read here, never rebuilt."""

    def __init__(self, home: Path, hub: Hub, token: str | None) -> None:
        self.home, self.hub, self.token = home, hub, token

    async def index(self, request: Request) -> Response:
        response = HTMLResponse(page(), headers=_HEADERS)
        given = request.query_params.get("token")
        if self.token and given:  # the page's own fetches and websocket then carry the cookie
            response.set_cookie(COOKIE, given, httponly=True, samesite="strict")
        return response

    async def config(self, request: Request) -> Response:
        body = {"state": "/api/state", "ws": None, "docs": "/docs/validations/{batch_id}.html"}
        return JSONResponse({**body, "report": "/reports/{batch_id}"}, headers=_HEADERS)

    async def batches(self, request: Request) -> Response:
        params = request.query_params
        limit = min(int(params["limit"]) if params.get("limit", "").isdigit() else 200, 10_000)
        rows = self.hub.board.rows(source=params.get("source"), since=params.get("since"), limit=limit)
        return JSONResponse([asdict(r) for r in rows], headers=_HEADERS)

    async def trends(self, request: Request) -> Response:
        return JSONResponse(self.hub.board.trends(), headers=_HEADERS)

    async def state(self, request: Request) -> Response:
        return JSONResponse(self.hub.board.state(), headers=_HEADERS)

    async def report(self, request: Request) -> Response:
        """The report as emailed, less user ids (``dashboard.report``)."""
        batch_id = request.path_params["batch_id"]
        record = stored_record(self.home, batch_id) if _BATCH_ID.match(batch_id) else None
        if record is None:
            return Response("no report for this batch", 404, media_type="text/plain")
        docs = f"/docs/validations/{batch_id}.html"
        return HTMLResponse(await asyncio.to_thread(report_page, record, docs), headers=_HEADERS)

    async def events(self, websocket: WebSocket) -> None:
        await websocket.accept()
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.hub.queues.add(queue)
        try:
            while True:
                await websocket.send_text(await queue.get())
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.hub.queues.discard(queue)


def create_app(home: Path, token: str | None = None) -> Starlette:
    """The app over the lake at ``home``; with a token, every request must carry it."""
    hub = Hub(EventLog(home / "events" / "events.jsonl"))
    hub.catch_up()  # the whole log once, before the first request
    pages = Pages(home, hub, token)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(hub.follow())
        yield
        task.cancel()

    (home / lake.DOCS).mkdir(parents=True, exist_ok=True)
    app = Starlette(
        routes=[
            Route("/", pages.index),
            Route("/dashboard-config.json", pages.config),
            Route("/api/batches", pages.batches),
            Route("/api/trends", pages.trends),
            Route("/api/state", pages.state),
            Route("/reports/{batch_id}", pages.report),
            WebSocketRoute("/ws", pages.events),
            Mount("/docs", StaticFiles(directory=home / lake.DOCS, html=True)),
        ],
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.add_middleware(Guard, token=token)
    return app


class Guard:
    """A token on every request when one is set (cookie, ``?token=`` or ``Authorization: Bearer``),
    and no websocket opened from another site's page (a localhost server is reachable from any tab)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        allowed = self._authorised(scope, headers) and _same_origin(scope, headers)
        if allowed:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        response = Response("a token is required: open the address vitalflow serve printed", 401)
        await response(scope, receive, send)

    def _authorised(self, scope: Scope, headers: dict[str, str]) -> bool:
        if not self.token:
            return True
        query = dict(
            part.split("=", 1) for part in scope.get("query_string", b"").decode().split("&") if "=" in part
        )
        cookies = dict(c.strip().split("=", 1) for c in headers.get("cookie", "").split(";") if "=" in c)
        bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
        return any(
            hmac.compare_digest(given.encode(), self.token.encode())
            for given in (query.get("token", ""), cookies.get(COOKIE, ""), bearer)
            if given
        )


def _same_origin(scope: Scope, headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if scope["type"] != "websocket" or not origin:
        return True
    return origin.split("://", 1)[-1] == headers.get("host", "")


def serve_info(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
