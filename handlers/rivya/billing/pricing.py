"""What a generation costs, from the catalog's integer pricing and the task's input."""

from __future__ import annotations

import math
from typing import Any

from rivya.catalog.catalog import CatalogModel


def generation_price(model: CatalogModel, given: dict[str, Any]) -> int:
    """Credits for one generation: per image made, or per started second of audio or video."""
    if model.pricing.unit == "image":
        units = int(given.get("num_images", 1))
    elif model.pricing.unit == "second":
        units = math.ceil(float(given.get("duration", 1)))
    else:
        raise ValueError(f"{model.id} is not a generation model")
    return model.pricing.output * max(units, 1)


def chat_cost(model: CatalogModel, prompt_tokens: int, completion_tokens: int) -> int:
    """Credits for a chat turn: prompt and completion tokens at the model's prices per thousand,
    rounded up once for the turn."""
    pricing = model.pricing
    if pricing.unit != "1k_tokens":
        raise ValueError(f"{model.id} is not a chat model")
    milli = prompt_tokens * (pricing.input or 0) + completion_tokens * pricing.output
    return math.ceil(milli / 1000)
