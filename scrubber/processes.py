"""Helpers for the commands that fork workers from a loaded engine (`scrub --workers`, `run
--workers`): how to start them, what to give back before forking, and how a worker follows its
parent's death. They import nothing of scrubber: every layer above may use them."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import ForkContext, SpawnContext

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# What the parent of a forked process forwards to it: stop (TERM, INT) and reload (HUP).
FORWARDED_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


def worker_context() -> ForkContext | SpawnContext:
    """How to start the workers: forked (sharing `shared_engine`'s pages) when this process has
    one thread. A fork copies only the calling thread: with another thread alive (holding a
    lock, say) a child could inherit that lock held forever. Then spawn, and pay the memory."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def release_free_heap() -> None:
    """Give the heap's free pages back to the kernel before forking (glibc's `malloc_trim`).
    Loading the model leaves ~15 MB of holes in the heap; a forked worker allocating into a
    hole would copy the parent's page and leave the parent holding the original alone, so each
    hole ended up counted once per worker and once more in the parent (measured: the parent's
    private memory 26 -> 14 MB with two workers). A fresh page costs only the worker's copy."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    trim = getattr(libc, "malloc_trim", None)  # glibc only: elsewhere the holes stay
    if trim is not None:
        trim(0)


def stop_when_parent_dies() -> None:
    """Have the kernel send this process SIGTERM when its parent dies (kill -9 of `run`, or of
    the supervisor), so no worker keeps consuming, orphaned, beside its replacement: it stops as
    on any SIGTERM (flush, commit, exit). Linux only; elsewhere a no-op."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def forwarded_signals_held() -> Iterator[None]:
    """Hold (block) the forwarded signals while forking a child and noting it, then deliver
    any that came in. Two signals were lost otherwise: one handled in the parent between the
    fork and the parent noting its new child was passed to the children known before it; one
    sent to the child before its interpreter had finished forking was dropped (CPython clears
    the signals pending in a fresh child). The child starts with them held too: it calls
    `release_forwarded_signals` once its handlers are the ones to run."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def release_forwarded_signals() -> None:
    """In a child forked under `forwarded_signals_held`: deliver what was held, from now on."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)
