"""``vitalflow serve``: the live dashboard of the local lake in a browser.

On localhost anyone on the machine may look, as with the lake's files; on any other address the
server asks for a token (``--token``, or one generated and printed with the address to open).
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from vitalflow.commands._common import console, settings_from

LOCAL = {"127.0.0.1", "localhost", "::1"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the live dashboard, Data Docs and reports",
        description="A web page of the recent batches, updated live as the pipeline runs, with the "
        "reject rate and anomalies per source over 30 days; also Data Docs (/docs) and reports.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--token", help="token required off localhost (default: a random one, printed)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import uvicorn

    from vitalflow.dashboard.app import create_app, serve_info

    home = Path(settings_from(args).home).expanduser().resolve()
    token = args.token or (None if args.host in LOCAL else secrets.token_urlsafe(24))
    app = create_app(home, token)
    console().print(
        f"vitalflow dashboard of {home}: {serve_info(args.host, args.port, token)}", soft_wrap=True
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ws="websockets-sansio",
        timeout_graceful_shutdown=2,
    )
    return 0
