"""Outbound connections to addresses that someone else chose: the SSRF guard and pinning."""
