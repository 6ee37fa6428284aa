"""Stub: the invitee's personal pages."""
