"""The model catalog: the built-in one covers every kind; a bad catalog stops the start."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rivya.catalog.catalog import Catalog, CatalogError
from rivya.settings import BUILTIN_CATALOG


def write(tmp_path: Path, models: object) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"models": models}))
    return path


def builtin_models() -> list[dict[str, object]]:
    models: list[dict[str, object]] = yaml.safe_load(BUILTIN_CATALOG.read_text())["models"]
    return models


def test_the_builtin_catalog_has_a_development_model_of_every_kind() -> None:
    catalog = Catalog.load(BUILTIN_CATALOG)
    assert {m.kind for m in catalog.models} == {"image", "video", "audio", "chat"}
    assert all(m.provider.type.startswith("local-") for m in catalog.models)


def test_public_view_hides_the_provider() -> None:
    for model in Catalog.load(BUILTIN_CATALOG).models:
        assert "provider" not in model.public()


def test_parameters_validate_inputs() -> None:
    catalog = Catalog.load(BUILTIN_CATALOG)
    validator = catalog.validator("rivya-image-dev")
    assert validator.is_valid({"prompt": "a red fox", "width": 256})
    assert not validator.is_valid({"prompt": ""})
    assert not validator.is_valid({"prompt": "x", "width": 99999})
    assert not validator.is_valid({"prompt": "x", "colour": "red"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m[0].update(parameters={"type": "objekt"}), "not a valid JSON Schema"),
        (lambda m: m[0].update(kind="hologram"), "kind"),
        (lambda m: m[0].update(pricing={"unit": "second", "output": 1}), "priced per image"),
        (lambda m: m[0]["pricing"].update(output=-1), "output"),
        (lambda m: m[0]["pricing"].update(output=1.5), "output"),
        (lambda m: m[0].update(id="Bad Id"), "id"),
        (lambda m: m[0].pop("provider"), "provider"),
        (lambda m: m[0].update(secret_sauce=True), "secret_sauce"),
        (lambda m: m.append(dict(m[0])), "more than once"),
    ],
)
def test_invalid_catalogs_are_refused(tmp_path: Path, change: object, message: str) -> None:
    models = builtin_models()
    change(models)  # type: ignore[operator]
    with pytest.raises(CatalogError, match=message):
        Catalog.load(write(tmp_path, models))


def test_missing_and_unparsable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        Catalog.load(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("models: [unclosed")
    with pytest.raises(CatalogError, match="cannot read"):
        Catalog.load(tmp_path / "bad.yaml")
    with pytest.raises(CatalogError, match="invalid"):
        Catalog.load(write(tmp_path, []))


def test_an_operator_catalog_is_served(tmp_path: Path) -> None:
    models = builtin_models()[:1]
    models[0]["id"] = "acme-image-1"
    catalog = Catalog.load(write(tmp_path, models))
    assert [m.id for m in catalog.models] == ["acme-image-1"]


def test_an_unquoted_comma_in_a_flow_mapping_is_refused_naming_model_and_path(
    tmp_path: Path,
) -> None:
    """The slip that once published a property named "same image." in GET /models."""
    text = BUILTIN_CATALOG.read_text()
    quoted = 'description: "Same prompt and seed, same image."}'
    assert quoted in text
    path = tmp_path / "catalog.yaml"
    path.write_text(text.replace(quoted, "description: Same prompt and seed, same image.}"))
    with pytest.raises(CatalogError) as caught:
        Catalog.load(path)
    message = str(caught.value)
    assert "model rivya-image-dev: parameters.properties.seed:" in message
    assert "'same image.' was unexpected" in message


def test_the_builtin_seed_description_is_one_sentence() -> None:
    model = Catalog.load(BUILTIN_CATALOG).get("rivya-image-dev")
    assert model is not None
    seed = model.parameters["properties"]["seed"]
    assert seed == {
        "type": "integer",
        "minimum": 0,
        "maximum": 4294967295,
        "description": "Same prompt and seed, same image.",
    }


@pytest.mark.parametrize(
    ("prop", "path", "message"),
    [
        ({"type": "integer", "colour": "red"}, "properties.seed", "'colour' was unexpected"),
        ({"description": "no type"}, "properties.seed", "'type' is a required property"),
        ({"type": "integer", "description": None}, "properties.seed.description", "not of type"),
        ({"type": "integer", "default": "x"}, "properties.seed.default", "is invalid"),
        ({"type": "integer", "minimum": "0"}, "properties.seed.minimum", "not of type"),
        ({"type": "string", "x-rivya-file": "pdf"}, "properties.seed.x-rivya-file", "not one of"),
        (
            {"type": "array", "items": {"type": "string", "same image.": None}},
            "properties.seed.items",
            "'same image.' was unexpected",
        ),
        ({"type": "integer", "$ref": "#/x"}, "properties.seed", "'$ref' was unexpected"),
    ],
)
def test_each_property_must_be_a_schema_of_known_keywords(
    tmp_path: Path, prop: dict[str, object], path: str, message: str
) -> None:
    models = builtin_models()
    models[0]["parameters"]["properties"]["seed"] = prop  # type: ignore[index]
    with pytest.raises(CatalogError) as caught:
        Catalog.load(write(tmp_path, models))
    assert f"model rivya-image-dev: parameters.{path}:" in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"type": "object", "properties": {"Same Image": {"type": "string"}}}, "does not match"),
        ({"type": "object", "properties": {"seed-value": {"type": "integer"}}}, "does not match"),
        ({"type": "array", "properties": {}}, "'object' was expected"),
        ({"type": "object"}, "'properties' is a required property"),
        (
            {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
            "not of type 'boolean'",
        ),
    ],
)
def test_the_input_is_an_object_with_snake_case_properties(
    tmp_path: Path, parameters: dict[str, object], message: str
) -> None:
    models = builtin_models()
    models[0]["parameters"] = parameters
    with pytest.raises(CatalogError, match="model rivya-image-dev: parameters") as caught:
        Catalog.load(write(tmp_path, models))
    assert message in str(caught.value)
