"""Command-line commands (`flask ...`); each is a few lines around a service call."""

from flask import Flask


def register(app: Flask) -> None:
    pass
