"""ASGI plumbing around the connexion app: request context and the error renderer."""
