"""The ceiling of bench_invitee_page.py: a bare Flask route rendering one row of the same
database, served the same way (`gunicorn --chdir bench bare_app:app`, DATABASE_URL set)."""

import os

from flask import Flask
from sqlalchemy import create_engine, text

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ row.id }}</title></head>
<body><h1>Invitation {{ row.id }}</h1><p>{{ row.answer }} {{ row.comment }}</p></body></html>
"""

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"])
# Compiled once, as render_template does with a template file.
template = app.jinja_env.from_string(PAGE)


@app.get("/row/<int:invitation_id>")
def row(invitation_id: int):
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT id, answer, comment FROM invitation WHERE id = :id"), {"id": invitation_id}
        ).one()
    return template.render(row=found)
