"""What the model must answer: checked before anything is stored or emailed."""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vitalflow.exceptions import AnalystError


class ModelAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    insights: list[str] = Field(min_length=1, max_length=10)
    recommendations: list[str] = Field(min_length=1, max_length=10)
    summary: str = Field(min_length=1, max_length=1500)
    risk_level: Literal["low", "moderate", "high"]


JSON_SCHEMA = ModelAnswer.model_json_schema()
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_answer(text: str) -> ModelAnswer:
    """The model's text as a ModelAnswer; AnalystError when it is not the JSON we asked for."""
    body = _FENCE.sub("", text.strip())
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise AnalystError("the model did not answer with a JSON object")
    try:
        answer = ModelAnswer.model_validate(json.loads(body[start : end + 1]))
    except (ValueError, ValidationError) as exc:
        raise AnalystError(
            f"the model's answer does not match the schema: {str(exc).splitlines()[0]}"
        ) from None
    too_long = [s for s in answer.insights + answer.recommendations if len(s) > 500]
    if too_long:
        raise AnalystError("the model's answer has an insight or recommendation over 500 characters")
    return answer
