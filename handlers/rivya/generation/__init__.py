"""Asynchronous generations: tasks, their credits, their execution and their events."""
