"""Checks for the exercises of lesson 09 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

__all__: list[str] = []
