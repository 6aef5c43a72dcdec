from typing import Literal

ChatCompletionChoicesItemFinishReason = Literal["content_filter", "length", "stop", "tool_calls"]

CHAT_COMPLETION_CHOICES_ITEM_FINISH_REASON_VALUES: set[ChatCompletionChoicesItemFinishReason] = {
    "content_filter",
    "length",
    "stop",
    "tool_calls",
}


def check_chat_completion_choices_item_finish_reason(value: str) -> ChatCompletionChoicesItemFinishReason:
    if value in CHAT_COMPLETION_CHOICES_ITEM_FINISH_REASON_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {CHAT_COMPLETION_CHOICES_ITEM_FINISH_REASON_VALUES!r}"
    )
