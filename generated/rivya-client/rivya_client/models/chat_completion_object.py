from typing import Literal

ChatCompletionObject = Literal["chat.completion"]

CHAT_COMPLETION_OBJECT_VALUES: set[ChatCompletionObject] = {
    "chat.completion",
}


def check_chat_completion_object(value: str) -> ChatCompletionObject:
    if value in CHAT_COMPLETION_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHAT_COMPLETION_OBJECT_VALUES!r}")
