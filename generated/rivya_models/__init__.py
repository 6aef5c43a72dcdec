"""Pydantic models of the Rivya API v1 contract, generated from spec/openapi.yaml."""
