from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_kind import ModelKind, check_model_kind
from ..models.model_object import ModelObject, check_model_object

if TYPE_CHECKING:
    from ..models.model_parameters import ModelParameters
    from ..models.pricing import Pricing


T = TypeVar("T", bound="Model")


@_attrs_define
class Model:
    """A public model.

    Example:
        {'id': 'rivya-image-dev', 'object': 'model', 'created': 1793491200, 'owned_by': 'rivya', 'kind': 'image',
            'name': 'Rivya Image (development)', 'description': 'A local model that paints deterministic PNG images.',
            'pricing': {'unit': 'image', 'output': 4, 'input': None}, 'parameters': {'type': 'object', 'required':
            ['prompt'], 'properties': {'prompt': {'type': 'string', 'minLength': 1}}}}

    Attributes:
        id (str): The public model id to pass as `model`. Example: rivya-image-dev.
        object_ (ModelObject):  Example: model.
        created (int): When the model was published, in Unix seconds. Example: 1793491200.
        owned_by (str):  Example: rivya.
        kind (ModelKind): What a model produces. Example: image.
        name (str):  Example: Rivya Image (development).
        description (str):  Example: A local model that paints deterministic PNG images..
        pricing (Pricing): Integer credits per unit of what the model produces. Chat models price prompt (`input`) and
            completion (`output`) tokens apart, per thousand, rounded up per turn.
             Example: {'unit': 'image', 'output': 4, 'input': None}.
        parameters (ModelParameters): The JSON Schema (draft 2020-12) that a generation's `input` must satisfy. Example:
            {'type': 'object', 'required': ['prompt'], 'properties': {'prompt': {'type': 'string', 'minLength': 1}}}.
    """

    id: str
    object_: ModelObject
    created: int
    owned_by: str
    kind: ModelKind
    name: str
    description: str
    pricing: Pricing
    parameters: ModelParameters
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_: str = self.object_

        created = self.created

        owned_by = self.owned_by

        kind: str = self.kind

        name = self.name

        description = self.description

        pricing = self.pricing.to_dict()

        parameters = self.parameters.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "created": created,
                "owned_by": owned_by,
                "kind": kind,
                "name": name,
                "description": description,
                "pricing": pricing,
                "parameters": parameters,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_parameters import ModelParameters  # noqa: PLC0415
        from ..models.pricing import Pricing  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = check_model_object(d.pop("object"))

        created = d.pop("created")

        owned_by = d.pop("owned_by")

        kind = check_model_kind(d.pop("kind"))

        name = d.pop("name")

        description = d.pop("description")

        pricing = Pricing.from_dict(d.pop("pricing"))

        parameters = ModelParameters.from_dict(d.pop("parameters"))

        model = cls(
            id=id,
            object_=object_,
            created=created,
            owned_by=owned_by,
            kind=kind,
            name=name,
            description=description,
            pricing=pricing,
            parameters=parameters,
        )

        model.additional_properties = d
        return model

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
