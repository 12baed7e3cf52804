"""Placeholder: filled by its chapter issue."""

__all__ = []
