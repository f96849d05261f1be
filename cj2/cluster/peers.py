"""Who runs where in a job, and who stopped answering: a lost node named, not a bare timeout.

:func:`start` (called by :func:`cj2.cluster.env.init_distributed`) gathers every rank's host and
socket interface (the run record keeps them). In a job on several nodes each rank also beats: a
daemon thread adds 1 to the rank's counter in the rendezvous store (the TCPStore that rank 0
hosts) every ``period`` seconds, through a connection of its own. When the task fails (a
collective timed out waiting for a dead peer, or lost its connection), :func:`lost_node_error`
reads every counter twice, a few periods apart: the ranks whose counters stood still are gone,
and so are their nodes. When the store does not answer, rank 0's node is the lost one.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

_world: list[dict] = []
_store_at: tuple[str, int] | None = None  # the rendezvous store, once heartbeats run
_period_s = 1.0


class NodeLostError(RuntimeError):
    """A collective failed because the ranks of these nodes stopped answering."""


def heartbeat_period(timeout_s: float) -> float:
    """A tenth of the collective timeout, within 1-10 s: lost ranks are told apart well before it."""
    return min(max(timeout_s / 10, 1.0), 10.0)


def start(de, timeout_s: float, sockets: dict[str, str]) -> None:
    """Every rank: share who runs where; on several nodes, start this rank's heartbeat."""
    global _store_at, _period_s
    me = {"rank": de.rank, "node": de.node_rank, "host": socket.gethostname(), **sockets}
    if de.world_size == 1:
        _world[:] = [me]
        return
    import torch.distributed as dist

    world: list[dict | None] = [None] * de.world_size
    dist.all_gather_object(world, me)
    _world[:] = world
    if len({w["host"] for w in world}) == 1:
        return  # one node: srun --kill-on-bad-exit ends the step when a rank dies
    _store_at, _period_s = (de.master_addr, de.master_port), heartbeat_period(timeout_s)
    threading.Thread(target=_beat, args=(de.rank,), name="cj2-heartbeat", daemon=True).start()


def world() -> list[dict]:
    """``{"rank", "node", "host", GLOO_SOCKET_IFNAME, NCCL_SOCKET_IFNAME, "source"}`` per rank, in rank order."""
    return list(_world)


def _key(rank: int) -> str:
    return f"cj2/heartbeat/{rank}"


def _client(timeout_s: float):
    import torch.distributed as dist

    host, port = _store_at
    return dist.TCPStore(host, port, is_master=False, timeout=timedelta(seconds=timeout_s), wait_for_workers=False)


def _beat(rank: int) -> None:
    try:
        store = _client(max(3 * _period_s, 10))
        while True:
            store.add(_key(rank), 1)
            time.sleep(_period_s)
    except Exception:  # the store (rank 0) is gone: the job is ending, there is no one to tell
        return


def lost_node_error(error: BaseException) -> NodeLostError | None:
    """After ``error`` ended this rank's task: the nodes whose ranks stopped beating, or None
    (one node, every rank still beating, or no process group)."""
    if _store_at is None:
        return None
    me = socket.gethostname()
    window = 3 * _period_s
    try:
        store = _client(window + 2)
        before = [store.add(_key(r), 0) for r in range(len(_world))]
        time.sleep(window)  # every live rank beats at least twice meanwhile
        silent = [r for r, n in enumerate(before) if store.add(_key(r), 0) == n]
    except Exception as e:  # rank 0's store is unreachable: its node is the one gone
        silent, window = [0], None
        error = f"{error} (and the rendezvous store on rank 0 does not answer: {e})"
    if not silent:
        return None
    hosts = sorted({_world[r]["host"] for r in silent})
    waited = f"no heartbeat for {window:.3g} s" if window else "rank 0's store unreachable"
    return NodeLostError(f"lost node{'s' if len(hosts) > 1 else ''} {', '.join(hosts)} (rank{'s' if len(silent) > 1 else ''} {', '.join(map(str, silent))}: {waited}); seen from {me} after: {error}")
