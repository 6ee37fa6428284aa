"""Rate limits per address: a budget per scope, shared by every worker when it is in Redis."""

import os
import uuid

import pytest
from werkzeug.exceptions import TooManyRequests

from app import create_app, ratelimit
from config import TestingConfig
from tests.test_jobs import REDIS_URL, redis_answers


def make_app(storage: str):
    return create_app(TestingConfig, RATELIMIT_STORAGE_URI=storage, TEST_LIMIT="2 per minute")


def attempts(app, scope: str, address: str = "192.0.2.1") -> list[bool]:
    """Whether each of three requests from `address` got through."""
    outcomes = []
    for _number in range(3):
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            try:
                ratelimit.check(scope, "TEST_LIMIT")
            except TooManyRequests as refusal:
                assert refusal.retry_after is not None
                outcomes.append(False)
            else:
                outcomes.append(True)
    return outcomes


def test_each_address_and_scope_has_its_own_budget():
    app = make_app("memory://")
    assert attempts(app, "links") == [True, True, False]
    assert attempts(app, "links", "192.0.2.2") == [True, True, False]
    assert attempts(app, "other") == [True, True, False]


@pytest.mark.skipif(
    not redis_answers() and not os.environ.get("CI"),
    reason="no Redis server answers on 127.0.0.1:6379",
)
def test_workers_share_the_budget_through_redis():
    first, second = make_app(REDIS_URL), make_app(REDIS_URL)
    scope = f"test-{uuid.uuid4().hex}"  # a fresh counter whatever earlier runs left

    assert attempts(first, scope) == [True, True, False]
    assert attempts(second, scope) == [False, False, False]
