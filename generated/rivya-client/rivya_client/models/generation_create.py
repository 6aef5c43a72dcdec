from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.generation_create_input import GenerationCreateInput


T = TypeVar("T", bound="GenerationCreate")


@_attrs_define
class GenerationCreate:
    """A generation to start.

    Example:
        {'model': 'rivya-image-dev', 'input': {'prompt': 'a red fox in the snow', 'width': 512, 'height': 512}}

    Attributes:
        model (str): A public model id of kind image, video or audio. Example: rivya-image-dev.
        input_ (GenerationCreateInput): The model's input; its `parameters` schema says what it takes. Example:
            {'prompt': 'a red fox in the snow', 'width': 512, 'height': 512}.
    """

    model: str
    input_: GenerationCreateInput

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        input_ = self.input_.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "model": model,
                "input": input_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.generation_create_input import GenerationCreateInput  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model")

        input_ = GenerationCreateInput.from_dict(d.pop("input"))

        generation_create = cls(
            model=model,
            input_=input_,
        )

        return generation_create
