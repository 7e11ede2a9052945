"""A fake Bedrock Converse endpoint on 127.0.0.1, spoken to by the real boto3 client.

Each request takes the next scripted behaviour: "ok", "throttle" (HTTP 429 ThrottlingException),
"malformed" (text that is not the JSON asked for) or "slow" (answers after the client's timeout).
Request bodies are kept so tests can inspect exactly what was sent.
"""

from __future__ import annotations

import json
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any

from fakes.loopback import LoopbackServer

GOOD_ANSWER = {
    "insights": ["Low SpO2 readings cluster in one user overnight."],
    "recommendations": ["Call user A today to check the oximeter fit."],
    "summary": "One user shows repeated desaturation; everything else is within range.",
    "risk_level": "high",
}


class FakeBedrock(LoopbackServer):
    def __init__(self, slow_seconds: float = 2.0) -> None:
        self.script: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.slow_seconds = slow_seconds
        self.answer: dict[str, Any] = dict(GOOD_ANSWER)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.paths.append(self.path)
                fake.requests.append(json.loads(body or b"{}"))
                mode = fake.script.popleft() if fake.script else "ok"
                if mode == "throttle":
                    self._send(429, {"message": "Too many requests, please wait"}, "ThrottlingException")
                    return
                if mode == "slow":
                    time.sleep(fake.slow_seconds)
                text = (
                    "Sure! Here is my analysis: the data looks fine."
                    if mode == "malformed"
                    else json.dumps(fake.answer)
                )
                self._send(
                    200,
                    {
                        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                        "stopReason": "end_turn",
                        "usage": {"inputTokens": 1200, "outputTokens": 300, "totalTokens": 1500},
                        "metrics": {"latencyMs": 42},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any], error_type: str | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if error_type:
                        self.send_header("x-amzn-ErrorType", error_type)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): that is the point of "slow"

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)
