"""Contains all the data models used in inputs/outputs"""

from .credits_ import Credits
from .credits_object import CreditsObject
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
