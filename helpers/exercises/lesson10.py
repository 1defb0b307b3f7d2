"""Checks for lesson 10's exercises (see helpers/exercises/__init__.py for the framework)."""

__all__: list[str] = []
