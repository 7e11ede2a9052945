"""A short narrative over the digest's aggregates: from Bedrock when the deployment uses it, else
(and whenever Bedrock fails) from vitalflow's rules. Only the findings and per-source counts and
rates go into the prompt; the digest holds no user id or reading to send.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from vitalflow.config import Settings
from vitalflow.digest.model import Digest, Narrative

log = logging.getLogger(__name__)
MAX_CHARS = 600
SYSTEM = (
    "You summarise a daily data-quality digest of health-vitals uploads for a data team. Using only "
    "the JSON given, write two or three plain sentences: what needs attention first, then how the "
    'other sources did. Answer with JSON only: {"narrative": "..."}.'
)


def rules_narrative(digest: Digest, reason: str | None = None) -> Narrative:
    """One or two sentences from the findings themselves."""
    found = digest.findings
    total = len(digest.sources)
    flagged = sorted({f.source for f in found})
    learning = [s.source for s in digest.sources if s.learning and s.source not in flagged]
    if not flagged:
        text = f"All {total - len(learning)} judged source(s) were within their normal ranges."
    else:
        kinds = sorted({f.kind.replace("_", " ") for f in found})
        text = (
            f"{len(flagged)} of {total} source(s) need attention ({', '.join(flagged[:5])}"
            f"{', ...' if len(flagged) > 5 else ''}): {', '.join(kinds)}; "
            f"{total - len(flagged) - len(learning)} within their normal ranges."
        )
    if learning:
        text += f" Still learning their normal ranges: {', '.join(learning[:5])}."
    return Narrative(text=text[:MAX_CHARS], model="rules", fallback_reason=reason)


def aggregates(digest: Digest) -> dict[str, Any]:
    """What the model sees: findings and per-source counts and rates, nothing else."""
    return {
        "day": digest.day.isoformat(),
        "findings": [f.model_dump() for f in digest.findings],
        "sources": [
            {
                "source": s.source,
                "batches": s.batches,
                "failed_files": s.failed_files,
                "rows": s.rows,
                "reject_rate": s.reject_rate,
                "anomaly_rate": s.anomaly_rate,
                "learning": s.learning,
            }
            for s in digest.sources
        ],
    }


def bedrock_narrative(digest: Digest, client: Any, model_id: str) -> Narrative:
    """Bedrock's narrative; the rules' when the call fails or the answer is not the JSON asked for."""
    request = {
        "modelId": model_id,
        "system": [{"text": SYSTEM}],
        "messages": [{"role": "user", "content": [{"text": json.dumps(aggregates(digest))}]}],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.2},
    }
    try:
        response = client.converse(**request)
        parts = response.get("output", {}).get("message", {}).get("content", [])
        text = str(json.loads("".join(p.get("text", "") for p in parts))["narrative"])
    except (ClientError, BotoCoreError) as exc:
        log.warning("Bedrock narrative failed: %s", type(exc).__name__)
        return rules_narrative(digest, f"Bedrock call failed ({type(exc).__name__})")
    except (ValueError, KeyError, TypeError):
        return rules_narrative(digest, "Bedrock's answer was not the JSON asked for")
    clean = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return Narrative(text=clean[:MAX_CHARS], model=model_id)


def narrate(digest: Digest, settings: Settings) -> Narrative:
    """The narrative the deployment's analyst setting asks for (Bedrock, with the rules as fallback)."""
    if settings.analyst != "bedrock":
        return rules_narrative(digest)
    from vitalflow.enrich.bedrock import bedrock_client

    client = bedrock_client(settings, budget_s=2 * settings.bedrock_timeout_s)
    return bedrock_narrative(digest, client, settings.bedrock_model_id)
