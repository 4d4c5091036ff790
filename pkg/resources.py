"""One cleanup stack per composition root, closed at once when building fails half-way.

The kratos way (constructors return their cleanup), with ``contextlib.AsyncExitStack``:
``app.build`` pushes every resource's close onto one stack, hands ``stack.aclose`` to the
server (run on stop), and wraps its body in ``closed_on_failure(stack)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager

_closing: set[asyncio.Task[None]] = set()


@contextmanager
def closed_on_failure(stack: AsyncExitStack) -> Iterator[AsyncExitStack]:
    """Yield ``stack``; if the block raises, schedule ``stack.aclose()`` and re-raise.

    For synchronous builders running inside the event loop: the close runs as a task on the
    running loop (kept referenced until done), so what was opened before the failure is
    closed without blocking.  Raises ``RuntimeError`` (after the block's own error) only
    when no loop runs.
    """
    try:
        yield stack
    except BaseException:
        task = asyncio.get_running_loop().create_task(stack.aclose())
        _closing.add(task)
        task.add_done_callback(_closing.discard)
        raise


__all__ = ["closed_on_failure"]
