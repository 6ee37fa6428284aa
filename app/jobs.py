"""Background jobs: the Huey instance (SQLite file by default, Redis when REDIS_URL is set)
and the periodic tasks. Each task opens an application context and calls a service."""

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab

from config import config_from_environment

_worker_app: Flask | None = None


def make_huey(settings) -> Huey:
    if getattr(settings, "HUEY_IMMEDIATE", False):
        return Huey("rencontres", immediate=True)
    if settings.REDIS_URL:
        return RedisHuey("rencontres", url=settings.REDIS_URL)
    os.makedirs(os.path.dirname(os.path.abspath(settings.HUEY_SQLITE_PATH)), exist_ok=True)
    return SqliteHuey("rencontres", filename=settings.HUEY_SQLITE_PATH)


huey = make_huey(config_from_environment())


@contextlib.contextmanager
def job_context() -> Iterator[Flask]:
    """The running application (tests, immediate mode) or one made once for this worker."""
    global _worker_app
    if has_app_context():
        yield current_app._get_current_object()
        return
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        yield _worker_app


@huey.periodic_task(crontab(minute="7"))
def purge_login_failures() -> int:
    """Hourly: forget failed logins older than the rate-limit window."""
    from app.auth.services import purge_login_failures as purge
    from app.extensions import db

    with job_context():
        removed = purge(now=datetime.now(UTC))
        db.session.commit()
    return removed


@huey.task()
def deliver_outbox() -> None:
    """Deliver the queued messages now; enqueued by request_delivery() after new messages."""
    from app.extensions import db
    from app.mail.delivery import deliver_due

    with job_context():
        report = deliver_due(now=datetime.now(UTC))
        db.session.commit()
    if report.unfinished:
        deliver_outbox()


@huey.periodic_task(crontab())
def deliver_outbox_every_minute() -> None:
    """Every minute: take back what stopped workers held, then deliver what is due (retries)."""
    from app.extensions import db
    from app.mail.delivery import deliver_due, recover_stale

    with job_context():
        now = datetime.now(UTC)
        recover_stale(now)
        db.session.commit()
        deliver_due(now)
        db.session.commit()


@huey.periodic_task(crontab())
def queue_due_reminders_every_minute() -> None:
    """Every minute: queue the reminders that are due, each committed as it is done (another
    worker waits for one reminder at most), then wake the delivery."""
    from app.extensions import db
    from app.reminders.sending import queue_due_reminders

    with job_context():
        report = queue_due_reminders(datetime.now(UTC), after_each=db.session.commit)
        db.session.commit()
    if report.queued:
        deliver_outbox()


@huey.periodic_task(crontab(minute="*/15"))
def queue_digests_every_quarter_hour() -> None:
    """The organisers' daily digests, each once a day from DIGEST_HOUR (a worker that was
    down sends them when it is back)."""
    from app.extensions import db
    from app.main.digest import queue_digests

    with job_context():
        queued = queue_digests(datetime.now(UTC))
        db.session.commit()
    if queued:
        deliver_outbox()


@huey.periodic_task(crontab(minute="23"))
def expire_registrations_hourly() -> None:
    """Hourly: registrations to open meetings not confirmed in time expire, and those expired
    long ago are deleted with the details typed in them."""
    from app.extensions import db
    from app.registrations.services import expire_registrations

    with job_context():
        expire_registrations(datetime.now(UTC))
        db.session.commit()
