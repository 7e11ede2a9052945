"""How a rule reads on the Data Docs page (``datadocs/wording.py``): GE's own sentence for the
expectation (``atomic.prescriptive.summary``), with the dataset's column names."""

from __future__ import annotations

from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from great_expectations.render.renderer.inline_renderer import InlineRenderer

from vitalflow.datadocs.wording import rule_text


def text(kind: str, description: str | None = None, **kwargs: object) -> str:
    return rule_text(ExpectationConfiguration(type=kind, kwargs=kwargs, description=description))


def test_derived_columns_read_as_their_fields() -> None:
    assert text(
        "expect_column_values_to_be_between", column="heart_rate__num", min_value=20.0, max_value=250
    ) == ("heart_rate values must be greater than or equal to 20 and less than or equal to 250.")
    assert text("expect_column_values_to_not_be_null", column="spo2") == "spo2 values must never be null."


def test_a_suite_parameter_and_a_timestamp_read_as_words() -> None:
    sentence = text(
        "expect_column_values_to_be_between",
        column="event_time__ts",
        min_value="2000-01-01T00:00:00+00:00",
        max_value={"$PARAMETER": "latest_event_time"},
    )
    assert sentence == (
        "event_time values must be greater than or equal to 2000-01-01 00:00 UTC and less than or equal "
        "to the latest event time."
    )


def test_the_suites_description_words_a_derived_flag() -> None:
    flag = text(
        "expect_column_values_to_be_in_set",
        "$column is a number.",
        column="steps__is_number",
        value_set=[True],
    )
    assert flag == "steps is a number."


def test_a_strict_pair_reads_strict() -> None:
    """GE 1.8.1 words an explicit ``or_equal: false`` as "or equal" (it tests the parameter object,
    not its value); an explicit False is the default, so it is left out before GE words the rule."""
    kwargs = {"column_A": "systolic_bp__num", "column_B": "diastolic_bp__num", "or_equal": False}
    config = ExpectationConfiguration(type="expect_column_pair_values_a_to_be_greater_than_b", kwargs=kwargs)
    (ge_own,) = InlineRenderer(config).get_rendered_content()
    assert "or equal" in ge_own.value.template  # the quirk this works around; gone: drop the workaround
    assert text("expect_column_pair_values_a_to_be_greater_than_b", **kwargs) == (
        "Values in systolic_bp must always be greater than those in diastolic_bp."
    )


def test_a_row_condition_names_fields() -> None:
    sentence = text(
        "expect_column_values_to_be_between",
        column="spo2__num",
        min_value=90,
        row_condition="heart_rate__num>100",
        condition_parser="pandas",
    )
    assert sentence == "If heart_rate>100, then spo2 values must be greater than or equal to 90."


def test_a_rule_ge_cannot_word_still_reads() -> None:
    assert text("expect_column_values_to_be_fancy", column="user_id") == "user_id: column values to be fancy"
