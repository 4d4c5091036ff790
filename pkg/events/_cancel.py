"""Ending a loop that was cancelled even when a library swallowed the ``CancelledError``.

A blocking call (redis-py's ``XREADGROUP BLOCK``, psycopg's ``notifies``) that catches the
``CancelledError`` delivered to it and returns, or turns it into its own error, leaves the
task running with nothing left to cancel it: ``Task.cancel()`` delivers one exception.
``Task.cancelling()`` (Python 3.11+) still counts the request until someone calls
``uncancel()``, so a loop that checks it at every turn ends anyway.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise ``asyncio.CancelledError`` when the running task was asked to stop
    (``Task.cancelling()`` is not 0), whether or not the cancellation reached us."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
