"""Persistence: the database handle, the tables and their migrations."""
