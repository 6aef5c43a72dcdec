from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="GenerationCredits")


@_attrs_define
class GenerationCredits:
    """What the task reserved, was charged, and got back.

    Example:
        {'reserved': 4, 'charged': 4, 'refunded': 0}

    Attributes:
        reserved (int):  Example: 4.
        charged (int):  Example: 4.
        refunded (int):  Example: 0.
    """

    reserved: int
    charged: int
    refunded: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reserved = self.reserved

        charged = self.charged

        refunded = self.refunded

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reserved": reserved,
                "charged": charged,
                "refunded": refunded,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reserved = d.pop("reserved")

        charged = d.pop("charged")

        refunded = d.pop("refunded")

        generation_credits = cls(
            reserved=reserved,
            charged=charged,
            refunded=refunded,
        )

        generation_credits.additional_properties = d
        return generation_credits

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
