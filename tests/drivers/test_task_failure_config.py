"""``connection.max_task_failures``: the quoter's restart limit is configurable and validated."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from thalex_mm.config.models import BotConfig, ConnectionConfig


def test_max_task_failures_defaults_to_five() -> None:
    assert ConnectionConfig().max_task_failures == 5


@pytest.mark.parametrize("bad", [0, -3])
def test_max_task_failures_below_one_is_rejected_naming_the_key(bad: int) -> None:
    with pytest.raises(ValidationError) as exc:
        BotConfig.model_validate({"connection": {"max_task_failures": bad}})
    text = str(exc.value)
    assert "max_task_failures" in text and "greater than or equal to 1" in text


def test_max_task_failures_is_accepted_from_config() -> None:
    assert BotConfig.model_validate({"connection": {"max_task_failures": 12}}).connection.max_task_failures == 12
