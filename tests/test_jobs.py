"""Background jobs: the queue chosen from the settings, both queues working, the clean-up job."""

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from huey import RedisHuey, SqliteHuey
from sqlalchemy import func, select

from app.extensions import db
from app.jobs import make_huey, purge_login_failures
from app.models import LoginFailure
from config import Config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def settings(**values) -> type[Config]:
    return type("Settings", (Config,), {"HUEY_IMMEDIATE": False, **values})


def run_one_task_through(queue) -> int:
    """Enqueue a task, then take it off the queue and run it as a worker would."""

    @queue.task()
    def add(a, b):
        return a + b

    result = add(2, 3)
    task = queue.dequeue()
    queue.execute(task)
    return result.get()


def test_queue_is_an_sqlite_file_by_default(tmp_path):
    queue = make_huey(settings(REDIS_URL="", HUEY_SQLITE_PATH=str(tmp_path / "huey.db")))
    assert isinstance(queue, SqliteHuey)
    assert run_one_task_through(queue) == 5
    assert (tmp_path / "huey.db").exists()


@pytest.mark.skipif(
    not redis_answers() and not os.environ.get("CI"),
    reason="no Redis server answers on 127.0.0.1:6379",
)
def test_queue_uses_redis_when_redis_url_is_set():
    queue = make_huey(settings(REDIS_URL=REDIS_URL))
    assert isinstance(queue, RedisHuey)
    queue.flush()
    assert run_one_task_through(queue) == 5
    queue.flush()


def test_hourly_job_forgets_old_login_failures(app):
    now = datetime.now(UTC)
    db.session.add_all(
        [
            LoginFailure(email="a@example.org", ip_address="127.0.0.1", created_at=now),
            LoginFailure(
                email="a@example.org", ip_address="127.0.0.1", created_at=now - timedelta(days=1)
            ),
        ]
    )
    db.session.commit()

    purge_login_failures()

    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 1
