from typing import Literal

ModelKind = Literal["audio", "chat", "image", "video"]

MODEL_KIND_VALUES: set[ModelKind] = {
    "audio",
    "chat",
    "image",
    "video",
}


def check_model_kind(value: str) -> ModelKind:
    if value in MODEL_KIND_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MODEL_KIND_VALUES!r}")
