from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.generation_object import GenerationObject, check_generation_object
from ..models.generation_status import GenerationStatus, check_generation_status

if TYPE_CHECKING:
    from ..models.generation_credits import GenerationCredits
    from ..models.generation_error import GenerationError
    from ..models.generation_input import GenerationInput
    from ..models.generation_output import GenerationOutput


T = TypeVar("T", bound="Generation")


@_attrs_define
class Generation:
    """An asynchronous generation task.

    Example:
        {'id': 'task_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'object': 'generation', 'model': 'rivya-image-dev', 'status':
            'succeeded', 'input': {'prompt': 'a red fox in the snow', 'width': 512, 'height': 512, 'num_images': 1},
            'outputs': [{'file_id': 'file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zc', 'content_type': 'image/png', 'url':
            '/api/v1/files/file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zc/content'}], 'error': None, 'credits': {'reserved': 4, 'charged':
            4, 'refunded': 0}, 'cancel_requested': False, 'created_at': 1795647812, 'started_at': 1795647812, 'finished_at':
            1795647813}

    Attributes:
        id (str):  Example: task_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        object_ (GenerationObject):  Example: generation.
        model (str):  Example: rivya-image-dev.
        status (GenerationStatus): `queued` (waiting for a worker), `running`, then one of `succeeded`, `failed`,
            `canceled`.
             Example: succeeded.
        input_ (GenerationInput): The input as run, with the model's defaults filled in. Example: {'prompt': 'a red fox
            in the snow', 'width': 512, 'height': 512, 'num_images': 1}.
        outputs (list[GenerationOutput]):
        error (GenerationError | None):
        credits_ (GenerationCredits): What the task reserved, was charged, and got back. Example: {'reserved': 4,
            'charged': 4, 'refunded': 0}.
        cancel_requested (bool): Whether a cancellation was asked for. Example: False.
        created_at (int):  Example: 1795647812.
        started_at (int | None):  Example: 1795647812.
        finished_at (int | None):  Example: 1795647813.
    """

    id: str
    object_: GenerationObject
    model: str
    status: GenerationStatus
    input_: GenerationInput
    outputs: list[GenerationOutput]
    error: GenerationError | None
    credits_: GenerationCredits
    cancel_requested: bool
    created_at: int
    started_at: int | None
    finished_at: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.generation_error import GenerationError  # noqa: PLC0415

        id = self.id

        object_: str = self.object_

        model = self.model

        status: str = self.status

        input_ = self.input_.to_dict()

        outputs = []
        for outputs_item_data in self.outputs:
            outputs_item = outputs_item_data.to_dict()
            outputs.append(outputs_item)

        error: dict[str, Any] | None
        if isinstance(self.error, GenerationError):
            error = self.error.to_dict()
        else:
            error = self.error

        credits_ = self.credits_.to_dict()

        cancel_requested = self.cancel_requested

        created_at = self.created_at

        started_at: int | None
        started_at = self.started_at

        finished_at: int | None
        finished_at = self.finished_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "model": model,
                "status": status,
                "input": input_,
                "outputs": outputs,
                "error": error,
                "credits": credits_,
                "cancel_requested": cancel_requested,
                "created_at": created_at,
                "started_at": started_at,
                "finished_at": finished_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.generation_credits import GenerationCredits  # noqa: PLC0415
        from ..models.generation_error import GenerationError  # noqa: PLC0415
        from ..models.generation_input import GenerationInput  # noqa: PLC0415
        from ..models.generation_output import GenerationOutput  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = check_generation_object(d.pop("object"))

        model = d.pop("model")

        status = check_generation_status(d.pop("status"))

        input_ = GenerationInput.from_dict(d.pop("input"))

        outputs = []
        _outputs = d.pop("outputs")
        for outputs_item_data in _outputs:
            outputs_item = GenerationOutput.from_dict(outputs_item_data)

            outputs.append(outputs_item)

        def _parse_error(data: object) -> GenerationError | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_1 = GenerationError.from_dict(data)

                return error_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(GenerationError | None, data)

        error = _parse_error(d.pop("error"))

        credits_ = GenerationCredits.from_dict(d.pop("credits"))

        cancel_requested = d.pop("cancel_requested")

        created_at = d.pop("created_at")

        def _parse_started_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_finished_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        generation = cls(
            id=id,
            object_=object_,
            model=model,
            status=status,
            input_=input_,
            outputs=outputs,
            error=error,
            credits_=credits_,
            cancel_requested=cancel_requested,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
        )

        generation.additional_properties = d
        return generation

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
