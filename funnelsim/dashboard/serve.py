"""The dashboard server's entry point: Solara's own `solara run`, plus the room's status route.

`python -m funnelsim.dashboard.serve [solara run arguments]`. Solara serves the page as it always
does; this adds `GET /_funnelsim/status` (the room's status as JSON) and a middleware that tells the
room when a browser asks for the page (`ExpectArrivals`) to its Starlette app before uvicorn
starts, in the same process.
"""

from __future__ import annotations

import sys


def status(request):
    from starlette.responses import JSONResponse

    from funnelsim.dashboard.room import ROOM

    return JSONResponse(ROOM.status(), headers={"Cache-Control": "no-store"})


def add_status_route() -> None:
    import solara.server.starlette as solara_app
    from starlette.routing import Route

    from funnelsim.dashboard.room import STATUS_PATH

    # before Solara's catch-all page routes
    solara_app.app.router.routes.insert(0, Route(STATUS_PATH, endpoint=status, methods=["GET"]))


class ExpectArrivals:
    """ASGI middleware: a browser's request for a page (a GET accepting HTML) tells the room a tab
    is on its way, so the tabs at play hold their frames until it is shown (`room.ARRIVAL_SECONDS`)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") == "GET":
            accept = dict(scope.get("headers") or []).get(b"accept", b"")
            if b"text/html" in accept:
                from funnelsim.dashboard.room import ROOM

                ROOM.expect()
        await self.app(scope, receive, send)


def add_arrivals() -> None:
    import solara.server.starlette as solara_app

    solara_app.app.add_middleware(ExpectArrivals)


def main(argv: list[str] | None = None) -> None:
    import os

    from funnelsim.dashboard.server import APP

    # Solara registers its app when its server module is first imported, which is now
    os.environ.setdefault("SOLARA_APP", APP)
    add_status_route()
    add_arrivals()
    from funnelsim.dashboard import workers

    pool = workers.pool()  # before uvicorn's threads: the workers start from a quiet process
    if pool is not None:
        workers.warm_up(pool)
    from solara.__main__ import main as solara_main

    sys.argv = ["solara", *(sys.argv[1:] if argv is None else argv)]
    solara_main()


if __name__ == "__main__":
    main()
