"""Webhooks: endpoints that developers subscribe, and signed deliveries of events to them."""
