from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_object import EventObject, check_event_object
from ..models.event_type import EventType, check_event_type

if TYPE_CHECKING:
    from ..models.event_data import EventData
    from ..models.webhook_delivery import WebhookDelivery


T = TypeVar("T", bound="Event")


@_attrs_define
class Event:
    """Something that happened, as webhooks deliver it (`id`, `type`, `created_at`, `data`),
    with its deliveries.

        Example:
            {'id': 'evt_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'object': 'event', 'type': 'generation.succeeded', 'created_at':
                1795647813, 'data': {}, 'deliveries': []}

        Attributes:
            id (str):  Example: evt_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
            object_ (EventObject):
            type_ (EventType): What happened. Example: generation.succeeded.
            created_at (int):
            data (EventData): For generation events, the Generation as GET /generations/{taskId} shows it.
            deliveries (list[WebhookDelivery]):
    """

    id: str
    object_: EventObject
    type_: EventType
    created_at: int
    data: EventData
    deliveries: list[WebhookDelivery]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_: str = self.object_

        type_: str = self.type_

        created_at = self.created_at

        data = self.data.to_dict()

        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "type": type_,
                "created_at": created_at,
                "data": data,
                "deliveries": deliveries,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_data import EventData  # noqa: PLC0415
        from ..models.webhook_delivery import WebhookDelivery  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = check_event_object(d.pop("object"))

        type_ = check_event_type(d.pop("type"))

        created_at = d.pop("created_at")

        data = EventData.from_dict(d.pop("data"))

        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = WebhookDelivery.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        event = cls(
            id=id,
            object_=object_,
            type_=type_,
            created_at=created_at,
            data=data,
            deliveries=deliveries,
        )

        event.additional_properties = d
        return event

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
