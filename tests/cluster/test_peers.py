"""Naming a lost node: heartbeats in a real TCPStore, one rank beating and one silent (no SLURM)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import torch.distributed as dist

from cj2.cluster import peers
from tests.dist import free_port

WORLD = [{"rank": 0, "node": 0, "host": "n1"}, {"rank": 1, "node": 1, "host": "n2"}, {"rank": 2, "node": 1, "host": "n2"}]


@pytest.fixture
def store(monkeypatch):
    """The rendezvous store rank 0 would host, with peers pointed at it and a 0.1 s heartbeat."""
    port = free_port()
    server = dist.TCPStore("127.0.0.1", port, is_master=True, timeout=timedelta(seconds=10), wait_for_workers=False)
    monkeypatch.setattr(peers, "_store_at", ("127.0.0.1", port))
    monkeypatch.setattr(peers, "_period_s", 0.1)
    monkeypatch.setattr(peers, "_world", list(WORLD))
    yield server


def beat(rank: int) -> None:
    threading.Thread(target=peers._beat, args=(rank,), daemon=True).start()


def test_the_ranks_that_stopped_beating_name_their_node(store):
    """Catches: ranks still beating counted as lost (``!=`` for ``==``), or the lost ones' hosts
    taken from the surviving ranks."""
    beat(0)
    error = peers.lost_node_error(RuntimeError("Timed out waiting 20000ms for recv operation to complete"))
    assert isinstance(error, peers.NodeLostError)
    assert str(error).startswith("lost node n2 (ranks 1, 2: no heartbeat for 0.3 s)")
    assert "Timed out waiting 20000ms" in str(error)


def test_no_node_is_named_while_every_rank_beats(store):
    for rank in range(3):
        beat(rank)
    assert peers.lost_node_error(RuntimeError("some other failure")) is None


def test_an_unreachable_store_means_rank_0s_node_is_lost(store, monkeypatch):
    monkeypatch.setattr(peers, "_store_at", ("127.0.0.1", free_port()))  # nothing listens there
    error = peers.lost_node_error(RuntimeError("Connection closed by peer"))
    assert str(error).startswith("lost node n1 (rank 0: rank 0's store unreachable)")


def test_one_node_jobs_have_no_heartbeat_to_read(monkeypatch):
    monkeypatch.setattr(peers, "_store_at", None)
    assert peers.lost_node_error(RuntimeError("x")) is None


@pytest.mark.parametrize(("timeout_s", "period_s"), [(5, 1.0), (20, 2.0), (1800, 10.0)])
def test_the_heartbeat_period_is_a_tenth_of_the_collective_timeout_within_1_to_10_s(timeout_s, period_s):
    assert peers.heartbeat_period(timeout_s) == period_s
