"""A rule in the dataset's words: Great Expectations' own sentence for it, with the file's column names.

GE's inline renderer (``atomic.prescriptive.summary``) words every expectation type it ships; the
suite's ``description`` replaces that sentence where the column is a flag the parser derived
(``heart_rate__is_number in {True}`` reads better as "heart_rate is a number"). Derived column
names become the field they come from, suite parameters their name, timestamps UTC minutes.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from great_expectations.render import AtomicPrescriptiveRendererType
from great_expectations.render.renderer.inline_renderer import InlineRenderer

from vitalflow.validate.columns import COLUMN_KEYS, source_field

# GE 1.8.1 tests these flags with ``not params.<flag>``, true for an explicit False (the pair rule
# then reads "greater than or equal"): an explicit False is the default, so it is left out.
_FALSE_IS_DEFAULT = ("or_equal", "strict_min", "strict_max")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_DERIVED = re.compile(r"\b([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*)__[A-Za-z0-9_]+")


def rule_text(config: ExpectationConfiguration | None) -> str:
    """GE's sentence for the rule, with real column names (the same rule is worded once per process)."""
    if config is None:
        return "a rule"
    kwargs = json.dumps(config.kwargs, sort_keys=True, default=str)
    return _sentence(config.type, kwargs, config.description)


@lru_cache(maxsize=1024)
def _sentence(kind: str, kwargs_json: str, description: str | None) -> str:
    kwargs = {k: v for k, v in json.loads(kwargs_json).items() if not (k in _FALSE_IS_DEFAULT and v is False)}
    for key in COLUMN_KEYS:
        if isinstance(kwargs.get(key), str):
            kwargs[key] = _field(kwargs[key])
    if isinstance(kwargs.get("column_list"), list):
        kwargs["column_list"] = [_field(str(c)) for c in kwargs["column_list"]]
    config = ExpectationConfiguration(type=kind, kwargs=kwargs, description=description)
    for content in InlineRenderer(config).get_rendered_content():
        if content.name == AtomicPrescriptiveRendererType.SUMMARY and content.value.template:
            return _filled(content.value.template, content.value.params or {})
    name = kwargs.get("column") or "the row"  # a type GE cannot word (a custom expectation)
    return f"{name}: {kind.removeprefix('expect_').replace('_', ' ')}"


def _filled(template: str, params: dict[str, Any]) -> str:
    values = {name: param.get("value") for name, param in params.items()}
    return _PARAM.sub(lambda m: _value(m.group(1), values), template)


def _field(column: str) -> str:
    return source_field(column) or "the row"


def _value(name: str, params: dict[str, Any]) -> str:
    if name not in params:
        return f"${name}"
    value = params[name]
    if name.startswith("row_condition"):
        return _DERIVED.sub(r"\1", str(value))
    if isinstance(value, dict) and "$PARAMETER" in value:
        return "the " + str(value["$PARAMETER"]).replace("_", " ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:  # Python 3.9 reads no "Z"
            return value
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
    return str(value)
