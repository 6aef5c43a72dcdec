"""Contains all the data models used in inputs/outputs"""

from .credits_ import Credits
from .credits_object import CreditsObject
from .deleted_file import DeletedFile
from .deleted_file_object import DeletedFileObject
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

__all__ = (
    "Credits",
    "CreditsObject",
    "DeletedFile",
    "DeletedFileObject",
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
)
