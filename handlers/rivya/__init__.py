"""Rivya API v1: the server package (hand-written half of the contract-first pair)."""
