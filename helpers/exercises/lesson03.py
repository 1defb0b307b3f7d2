"""Checks for the exercises of lesson 03 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

__all__: list[str] = []
