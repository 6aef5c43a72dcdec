from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.pricing_unit import PricingUnit, check_pricing_unit
from ..types import UNSET, Unset

T = TypeVar("T", bound="Pricing")


@_attrs_define
class Pricing:
    """Integer credits per unit of what the model produces. Chat models price prompt (`input`) and
    completion (`output`) tokens apart, per thousand, rounded up per turn.

        Example:
            {'unit': 'image', 'output': 4, 'input': None}

        Attributes:
            unit (PricingUnit): What one unit of pricing is: one image, one second of audio or video, or one thousand
                tokens of a chat turn.
                 Example: image.
            output (int): Credits per unit produced. Example: 4.
            input_ (int | None | Unset): Credits per unit of input (chat prompt tokens); null where input is free.
    """

    unit: PricingUnit
    output: int
    input_: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        unit: str = self.unit

        output = self.output

        input_: int | None | Unset
        if isinstance(self.input_, Unset):
            input_ = UNSET
        else:
            input_ = self.input_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "unit": unit,
                "output": output,
            }
        )
        if input_ is not UNSET:
            field_dict["input"] = input_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        unit = check_pricing_unit(d.pop("unit"))

        output = d.pop("output")

        def _parse_input_(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        input_ = _parse_input_(d.pop("input", UNSET))

        pricing = cls(
            unit=unit,
            output=output,
            input_=input_,
        )

        pricing.additional_properties = d
        return pricing

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
