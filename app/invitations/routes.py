"""Stub: the organiser's invitation pages."""
