"""``vitalflow live-link``: open the AWS live dashboard with a websocket URL signed for you.

The websocket's ``$connect`` only admits principals allowed by IAM (the viewer role Terraform
creates for ``dashboard_viewer_arns``); browsers cannot sign, so this signs with your credentials
(run it as the viewer role, e.g. ``AWS_PROFILE``) and prints the page address carrying the URL.
"""

from __future__ import annotations

import argparse
from urllib.parse import quote


def register(subparsers: argparse._SubParsersAction) -> None:
    description = (
        "Sign the dashboard's websocket URL (terraform output live_dashboard) with your "
        "AWS credentials and print the page address to open (valid for --minutes)."
    )
    parser = subparsers.add_parser(
        "live-link", description=description, help="the AWS live dashboard's address, websocket URL signed"
    )
    parser.add_argument("websocket", help="wss://<api>.execute-api.<region>.amazonaws.com/live")
    parser.add_argument(
        "--page", default="", help="the dashboard page's URL (docs site + dashboard/index.html)"
    )
    parser.add_argument("--minutes", type=int, default=5, help="how long the link admits a connection")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from vitalflow.aws.live import signed_url

    signed = signed_url(args.websocket, expires_s=max(1, min(args.minutes, 15)) * 60)
    print(f"{args.page}#ws={quote(signed, safe='')}" if args.page else signed)
    return 0
