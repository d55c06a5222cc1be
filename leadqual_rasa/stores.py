"""Rasa 3.6's SQL tracker store and Redis lock store, made safe for several Rasa servers and for
a database restart. Loaded by Rasa itself (`type: leadqual_rasa.stores.<Class>` in
deploy/endpoints.production.yml); runs in Rasa's environment (.venv-rasa), never in the product's.

Two faults of the stock stores, both found by tests/production:

- `SQLTrackerStore` keeps pooled connections without checking them. After PostgreSQL restarts,
  the first read on each Rasa server fails; Rasa's fail-safe wrapper then treats the conversation
  as new (the visitor is greeted again, the questions start over) and saves it in memory only.
  `ResilientSQLTrackerStore` checks each connection before use (`pool_pre_ping`) and retries a
  read or write that failed on a lost connection for up to LEADQUAL_TRACKER_RETRY_SECONDS (10 s).
- `RedisLockStore` issues tickets with a read, then a write: two servers receiving a message of
  the same conversation at the same moment both get the same ticket and process at once, and one
  message's events are lost from the tracker. `AtomicRedisLockStore` does each change of a lock
  in a Redis transaction (WATCH/MULTI), retried when another server changed the lock meanwhile.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
import sqlalchemy as sa
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

from leadqual import settings

logger = logging.getLogger(__name__)


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose connections survive a database restart."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.retry_seconds = float(settings.TRACKER_RETRY_SECONDS.get())

    async def _retrying(self, work: Callable[[], Any]) -> Any:
        import asyncio

        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                return await work()
            except sa.exc.OperationalError as error:
                if time.monotonic() > deadline:
                    raise
                logger.warning("tracker store: %s; retrying", str(error).splitlines()[0])
                self.engine.dispose()
                await asyncio.sleep(0.5)

    async def retrieve(self, sender_id):  # type: ignore[no-untyped-def]
        return await self._retrying(lambda: SQLTrackerStore.retrieve(self, sender_id))

    async def retrieve_full_tracker(self, conversation_id):  # type: ignore[no-untyped-def]
        return await self._retrying(lambda: SQLTrackerStore.retrieve_full_tracker(self, conversation_id))

    async def save(self, tracker):  # type: ignore[no-untyped-def]
        return await self._retrying(lambda: SQLTrackerStore.save(self, tracker))


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket changes are atomic across Rasa servers."""

    def __init__(self, endpoint_config) -> None:  # type: ignore[no-untyped-def]
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[TicketLock | None, Any]]):
        """Apply `change(lock) -> (new lock or None to delete, result)` atomically."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new, result = change(lock)
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock):
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, change)
        except Exception as error:  # noqa: BLE001 - as RedisLockStore does
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def change(lock):
            if lock is None:
                return None, None
            lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock):
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, change)
