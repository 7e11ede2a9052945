"""The Bedrock analyst, through the Converse API.

Throttling and timeouts are retried by botocore's own retry modes (standard: exponential backoff
with jitter), so each call is bounded by attempts x read timeout; a deadline across calls bounds the
whole analysis. An answer that is not the requested JSON is asked for once more, then it fails,
and the caller falls back to the rules analyst.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vitalflow.config import Settings
from vitalflow.enrich.prompt import converse_request
from vitalflow.enrich.schema import parse_answer
from vitalflow.exceptions import AnalystError
from vitalflow.models import Analysis, BatchReport

log = logging.getLogger(__name__)
INFERENCE_PROFILE_PREFIXES = ("us", "eu", "apac", "us-gov", "ca", "jp", "au", "global")


MIN_CALL_S = 5.0  # below this much time left, Bedrock is not asked at all
CONNECT_S = 5.0


def bedrock_client(settings: Settings, boto3_session: Any = None, *, budget_s: float | None = None) -> Any:
    """A Converse client whose worst case (every retry timing out) fits in ``budget_s`` when given.

    botocore retries a call by itself, so a deadline checked between calls is not enough: the
    attempts and read timeout are cut so that attempts x (connect + read + backoff) stays within it.
    """
    import boto3

    session = boto3_session or boto3.session.Session()
    attempts, read = settings.bedrock_max_attempts, settings.bedrock_timeout_s
    if budget_s is not None:
        per_attempt = read + CONNECT_S + 2.0  # backoff with jitter stays under ~2 s for early retries
        attempts = max(1, min(attempts, int(budget_s // per_attempt)))
        read = max(1.0, min(read, budget_s / attempts - CONNECT_S - 2.0))
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=min(CONNECT_S, read),
        read_timeout=read,
    )
    return session.client(
        "bedrock-runtime",
        region_name=settings.region or "us-east-1",
        endpoint_url=settings.bedrock_endpoint_url or None,
        config=config,
    )


class BedrockAnalyst:
    def __init__(
        self,
        model_id: str,
        prices: dict[str, tuple[float, float]],
        client: Any,
        *,
        deadline_s: float = 180.0,
        client_for: Callable[[float], Any] | None = None,
    ) -> None:
        self.model = model_id
        self.prices = prices
        self.client = client
        self.deadline_s = deadline_s
        self.client_for = client_for  # a client whose retries fit a budget, for calls with a deadline

    @classmethod
    def from_settings(cls, settings: Settings, boto3_session: Any = None) -> BedrockAnalyst:
        timeout = settings.bedrock_timeout_s
        return cls(
            settings.bedrock_model_id,
            settings.bedrock_prices,
            bedrock_client(settings, boto3_session),
            deadline_s=2 * settings.bedrock_max_attempts * timeout + 10,
            client_for=lambda budget: bedrock_client(settings, boto3_session, budget_s=budget),
        )

    def analyze(self, report: BatchReport, *, deadline: float | None = None) -> Analysis:
        request = converse_request(report, self.model)
        started = time.monotonic()
        until = started + self.deadline_s if deadline is None else min(deadline, started + self.deadline_s)
        tokens_in = tokens_out = 0
        last_error: AnalystError | None = None
        for _attempt in range(2):  # one more try for an answer that is not the JSON we asked for
            left = until - time.monotonic()
            if left < MIN_CALL_S:
                break
            client = self.client_for(left) if deadline is not None and self.client_for else self.client
            try:
                response = client.converse(**request)
            except (ClientError, BotoCoreError) as exc:
                raise AnalystError(f"Bedrock call failed: {_describe(exc)}") from None
            usage = response.get("usage", {})
            tokens_in += int(usage.get("inputTokens", 0))
            tokens_out += int(usage.get("outputTokens", 0))
            text = "".join(
                part.get("text", "")
                for part in response.get("output", {}).get("message", {}).get("content", [])
            )
            try:
                answer = parse_answer(text)
            except AnalystError as exc:
                log.warning("Bedrock answer rejected: %s", exc)
                last_error = exc
                continue
            return Analysis(
                insights=answer.insights,
                recommendations=answer.recommendations,
                summary=answer.summary,
                risk_level=answer.risk_level,
                model=self.model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost_usd=self.cost(tokens_in, tokens_out),
            )
        raise AnalystError(str(last_error or "Bedrock did not answer in time"))

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        price_in, price_out = self.prices.get(self.model) or self.prices.get(
            base_model(self.model), (0.0, 0.0)
        )
        return round(tokens_in / 1000 * price_in + tokens_out / 1000 * price_out, 6)


def base_model(model_id: str) -> str:
    """The model behind a cross-region inference profile id ("us.amazon.nova-lite-v1:0"), whose
    on-demand price is the base model's."""
    prefix, dot, rest = model_id.partition(".")
    return rest if dot and prefix in INFERENCE_PROFILE_PREFIXES else model_id


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return type(exc).__name__
