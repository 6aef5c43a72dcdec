"""The model catalog: the public models, their pricing and parameter schemas, and the private
provider binding of each. Loaded once from YAML and checked whole: a bad catalog stops the server
at start, not a customer's request later."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rivya.catalog.parameters import faults

Kind = Literal["image", "video", "audio", "chat"]
_UNIT_OF_KIND = {"image": "image", "video": "second", "audio": "second", "chat": "1k_tokens"}


class CatalogError(ValueError):
    """The catalog file is missing, unreadable or invalid."""


class Pricing(BaseModel):
    """Integer credits per unit of output (and, for chat, of input)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: Literal["image", "second", "1k_tokens"]
    output: int = Field(ge=0)
    input: int | None = Field(default=None, ge=0)


class ProviderBinding(BaseModel):
    """Which provider serves the model, and how. Private: never rendered in a response."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


class CatalogModel(BaseModel):
    """One public model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    kind: Kind
    name: str = Field(min_length=1)
    description: str
    created: int = Field(ge=0)
    owned_by: str = "rivya"
    pricing: Pricing
    parameters: dict[str, Any]
    provider: ProviderBinding

    @model_validator(mode="after")
    def _pricing_fits_kind(self) -> CatalogModel:
        if self.pricing.unit != _UNIT_OF_KIND[self.kind]:
            raise ValueError(f"a {self.kind} model is priced per {_UNIT_OF_KIND[self.kind]}")
        return self

    @model_validator(mode="after")
    def _parameters_follow_the_rules(self) -> CatalogModel:
        found = faults(self.parameters)
        if found:
            raise ValueError(f"model {self.id}: " + f"; model {self.id}: ".join(found))
        return self

    @property
    def file_fields(self) -> dict[str, str]:
        """Input fields that name an uploaded file (`x-rivya-file`), with the kind they take."""
        properties = self.parameters.get("properties", {})
        return {
            name: prop["x-rivya-file"]
            for name, prop in properties.items()
            if isinstance(prop, dict) and "x-rivya-file" in prop
        }

    def with_defaults(self, given: dict[str, Any]) -> dict[str, Any]:
        """The input with the schema's top-level defaults filled in, as the task will run it."""
        properties = self.parameters.get("properties", {})
        defaults = {
            name: prop["default"]
            for name, prop in properties.items()
            if isinstance(prop, dict) and "default" in prop
        }
        return {**defaults, **given}

    def public(self) -> dict[str, Any]:
        """The model as the API shows it (no provider binding)."""
        return {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "pricing": self.pricing.model_dump(),
            "parameters": self.parameters,
        }


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[CatalogModel] = Field(min_length=1)


class Catalog:
    """The loaded catalog, ordered by model id."""

    def __init__(self, models: list[CatalogModel]) -> None:
        ids = [m.id for m in models]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise CatalogError(f"model ids appear more than once: {', '.join(duplicates)}")
        self.models = sorted(models, key=lambda m: m.id)
        self._by_id = {m.id: m for m in self.models}
        self._validators = {m.id: Draft202012Validator(m.parameters) for m in self.models}

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Read and check a catalog file."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogError(f"cannot read the catalog {path}: {exc}") from exc
        try:
            parsed = _CatalogFile.model_validate(raw)
        except ValidationError as exc:
            raise CatalogError(f"the catalog {path} is invalid:\n{exc}") from exc
        return cls(parsed.models)

    def get(self, model_id: str) -> CatalogModel | None:
        """The model with this public id, if any."""
        return self._by_id.get(model_id)

    def validator(self, model_id: str) -> Draft202012Validator:
        """The compiled validator of the model's parameter schema."""
        return self._validators[model_id]

    def page(
        self, *, kind: str | None = None, after: str | None = None, limit: int = 20
    ) -> tuple[list[CatalogModel], bool]:
        """One page of models in id order, and whether more follow."""
        selected = [
            m
            for m in self.models
            if (kind is None or m.kind == kind) and (after is None or m.id > after)
        ]
        return selected[:limit], len(selected) > limit
