"""The cyclic garbage collector, paused while a large catalog is built.

Reading a 2,000-relation contract or catalog creates tens of thousands of ``Column`` values and
JSON objects that all survive until the catalog is done, none of them in a reference cycle.
With the collector running, they push it into full collections that traverse every object of
the process, again and again; in a small process such as the CLI that is a third of the drift
check. So the builders pause it. Only the main thread does: the collector is one switch for the
whole process, and a worker thread (a server's request thread, a pytest-xdist helper) that
flipped it would race with the others.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block, in the main thread only.

    Nesting is harmless: only the outermost pause turns the collector back on, and a collector
    that was off before stays off. Memory is still freed by reference counting meanwhile.
    """
    if threading.current_thread() is not threading.main_thread() or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
