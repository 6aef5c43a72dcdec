from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.credits_object import CreditsObject, check_credits_object

T = TypeVar("T", bound="Credits")


@_attrs_define
class Credits:
    """The account's credit wallet.

    Example:
        {'object': 'credits', 'balance': 1000, 'reserved': 40, 'available': 960}

    Attributes:
        object_ (CreditsObject):  Example: credits.
        balance (int): Credits the account owns. Example: 1000.
        reserved (int): Credits held by work in progress. Example: 40.
        available (int): What new work may spend, `balance - reserved`. Example: 960.
    """

    object_: CreditsObject
    balance: int
    reserved: int
    available: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        object_: str = self.object_

        balance = self.balance

        reserved = self.reserved

        available = self.available

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "object": object_,
                "balance": balance,
                "reserved": reserved,
                "available": available,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        object_ = check_credits_object(d.pop("object"))

        balance = d.pop("balance")

        reserved = d.pop("reserved")

        available = d.pop("available")

        credits_ = cls(
            object_=object_,
            balance=balance,
            reserved=reserved,
            available=available,
        )

        credits_.additional_properties = d
        return credits_

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
