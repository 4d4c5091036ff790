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

    For synchronous builders: inside the event loop the close runs as a task on the running
    loop (kept referenced until done), so what was opened before the failure is closed
    without blocking; where no loop runs, it runs to completion on a loop of its own.
    Either way the block's own error is what propagates.
    """
    try:
        yield stack
    except BaseException:
        _close(stack)
        raise


def _close(stack: AsyncExitStack) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(stack.aclose())
        return
    task = loop.create_task(stack.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


__all__ = ["closed_on_failure"]
