"""Stub: the administrators' E-mails pages."""
