"""The cyclic garbage collector, kept out of the way while a large catalog is built.

Reading a 2,000-relation contract or catalog creates tens of thousands of ``Column`` values and
JSON objects that all survive until the catalog is done, none of them in a reference cycle.
With the collector running, they push it into full collections that traverse every object of
the process, again and again: a third of a drift check in a small process such as the CLI. So
the builders pause it, and file what they built with the old objects when they are done
(:func:`collector_paused`). Only the main thread does: the collector is one switch for the
whole process, and a worker thread (a server's request thread, a test runner's helper) that
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

    Memory is still freed by reference counting meanwhile. When the block ends, what it left
    alive goes straight to the oldest generation: resuming would otherwise start with a pass
    over every object the block created (a fifth of the time it took to build them), only to
    find them all alive. ``gc.freeze()`` then ``gc.unfreeze()`` is that move, in constant time;
    it is skipped when the program keeps frozen objects of its own (``gc.freeze()`` before a
    fork), which unfreezing would release. Nesting is harmless: only the outermost pause turns
    the collector back on, and a collector that was off before stays off.
    """
    if threading.current_thread() is not threading.main_thread() or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
