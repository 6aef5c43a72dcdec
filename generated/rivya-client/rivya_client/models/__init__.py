"""Contains all the data models used in inputs/outputs"""

from .chat_assistant_message import ChatAssistantMessage
from .chat_assistant_message_role import ChatAssistantMessageRole
from .chat_completion import ChatCompletion
from .chat_completion_choices_item import ChatCompletionChoicesItem
from .chat_completion_choices_item_finish_reason import ChatCompletionChoicesItemFinishReason
from .chat_completion_choices_item_logprobs_type_0 import ChatCompletionChoicesItemLogprobsType0
from .chat_completion_object import ChatCompletionObject
from .chat_completion_request import ChatCompletionRequest
from .chat_completion_request_response_format_type_0 import ChatCompletionRequestResponseFormatType0
from .chat_completion_request_stream_options_type_0 import ChatCompletionRequestStreamOptionsType0
from .chat_completion_request_tool_choice_type_1 import ChatCompletionRequestToolChoiceType1
from .chat_completion_request_tools_item import ChatCompletionRequestToolsItem
from .chat_content_part import ChatContentPart
from .chat_content_part_image_url import ChatContentPartImageUrl
from .chat_content_part_image_url_detail import ChatContentPartImageUrlDetail
from .chat_content_part_type import ChatContentPartType
from .chat_message_input import ChatMessageInput
from .chat_message_input_role import ChatMessageInputRole
from .chat_session import ChatSession
from .chat_session_detail import ChatSessionDetail
from .chat_session_list import ChatSessionList
from .chat_session_list_object import ChatSessionListObject
from .chat_session_message import ChatSessionMessage
from .chat_session_message_role import ChatSessionMessageRole
from .chat_session_object import ChatSessionObject
from .chat_tool_call import ChatToolCall
from .chat_tool_call_function import ChatToolCallFunction
from .chat_tool_call_type import ChatToolCallType
from .chat_usage import ChatUsage
from .credits_ import Credits
from .credits_object import CreditsObject
from .deleted_file import DeletedFile
from .deleted_file_object import DeletedFileObject
from .deleted_webhook_endpoint import DeletedWebhookEndpoint
from .deleted_webhook_endpoint_object import DeletedWebhookEndpointObject
from .event import Event
from .event_data import EventData
from .event_list import EventList
from .event_list_object import EventListObject
from .event_object import EventObject
from .event_resend import EventResend
from .event_type import EventType
from .file import File
from .file_list import FileList
from .file_list_object import FileListObject
from .file_object import FileObject
from .file_purpose import FilePurpose
from .file_upload import FileUpload
from .file_upload_purpose import FileUploadPurpose
from .generation import Generation
from .generation_create import GenerationCreate
from .generation_create_input import GenerationCreateInput
from .generation_credits import GenerationCredits
from .generation_error import GenerationError
from .generation_input import GenerationInput
from .generation_list import GenerationList
from .generation_list_object import GenerationListObject
from .generation_object import GenerationObject
from .generation_output import GenerationOutput
from .generation_status import GenerationStatus
from .model import Model
from .model_kind import ModelKind
from .model_list import ModelList
from .model_list_object import ModelListObject
from .model_object import ModelObject
from .model_parameters import ModelParameters
from .open_api_document import OpenAPIDocument
from .open_api_document_info import OpenAPIDocumentInfo
from .open_api_document_paths import OpenAPIDocumentPaths
from .pricing import Pricing
from .pricing_unit import PricingUnit
from .problem import Problem
from .webhook_attempt import WebhookAttempt
from .webhook_delivery import WebhookDelivery
from .webhook_delivery_object import WebhookDeliveryObject
from .webhook_delivery_status import WebhookDeliveryStatus
from .webhook_endpoint import WebhookEndpoint
from .webhook_endpoint_create import WebhookEndpointCreate
from .webhook_endpoint_list import WebhookEndpointList
from .webhook_endpoint_list_object import WebhookEndpointListObject
from .webhook_endpoint_object import WebhookEndpointObject
from .webhook_endpoint_update import WebhookEndpointUpdate
from .webhook_secret_rotation import WebhookSecretRotation

__all__ = (
    "ChatAssistantMessage",
    "ChatAssistantMessageRole",
    "ChatCompletion",
    "ChatCompletionChoicesItem",
    "ChatCompletionChoicesItemFinishReason",
    "ChatCompletionChoicesItemLogprobsType0",
    "ChatCompletionObject",
    "ChatCompletionRequest",
    "ChatCompletionRequestResponseFormatType0",
    "ChatCompletionRequestStreamOptionsType0",
    "ChatCompletionRequestToolChoiceType1",
    "ChatCompletionRequestToolsItem",
    "ChatContentPart",
    "ChatContentPartImageUrl",
    "ChatContentPartImageUrlDetail",
    "ChatContentPartType",
    "ChatMessageInput",
    "ChatMessageInputRole",
    "ChatSession",
    "ChatSessionDetail",
    "ChatSessionList",
    "ChatSessionListObject",
    "ChatSessionMessage",
    "ChatSessionMessageRole",
    "ChatSessionObject",
    "ChatToolCall",
    "ChatToolCallFunction",
    "ChatToolCallType",
    "ChatUsage",
    "Credits",
    "CreditsObject",
    "DeletedFile",
    "DeletedFileObject",
    "DeletedWebhookEndpoint",
    "DeletedWebhookEndpointObject",
    "Event",
    "EventData",
    "EventList",
    "EventListObject",
    "EventObject",
    "EventResend",
    "EventType",
    "File",
    "FileList",
    "FileListObject",
    "FileObject",
    "FilePurpose",
    "FileUpload",
    "FileUploadPurpose",
    "Generation",
    "GenerationCreate",
    "GenerationCreateInput",
    "GenerationCredits",
    "GenerationError",
    "GenerationInput",
    "GenerationList",
    "GenerationListObject",
    "GenerationObject",
    "GenerationOutput",
    "GenerationStatus",
    "Model",
    "ModelKind",
    "ModelList",
    "ModelListObject",
    "ModelObject",
    "ModelParameters",
    "OpenAPIDocument",
    "OpenAPIDocumentInfo",
    "OpenAPIDocumentPaths",
    "Pricing",
    "PricingUnit",
    "Problem",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryObject",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEndpointCreate",
    "WebhookEndpointList",
    "WebhookEndpointListObject",
    "WebhookEndpointObject",
    "WebhookEndpointUpdate",
    "WebhookSecretRotation",
)
