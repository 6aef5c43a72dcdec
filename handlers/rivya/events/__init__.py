"""Events: the transactional outbox that webhooks deliver from."""
