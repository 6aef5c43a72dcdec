from typing import Literal

ModelObject = Literal["model"]

MODEL_OBJECT_VALUES: set[ModelObject] = {
    "model",
}


def check_model_object(value: str) -> ModelObject:
    if value in MODEL_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MODEL_OBJECT_VALUES!r}")
