"""Uploaded and generated files: type sniffing and storage."""
