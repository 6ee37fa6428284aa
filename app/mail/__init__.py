"""The outbox: queueing messages (outbox.py) composed as they will be sent (mime.py),
delivering them (delivery.py), and the administrators' "E-mails" pages (routes.py)."""

from flask import Blueprint

bp = Blueprint("mail", __name__)

from app.mail import routes  # noqa: E402, F401
