"""Delivering the outbox over SMTP (being written)."""


def request_delivery() -> None:
    """Ask a worker to deliver queued messages soon; call it after committing new messages."""
