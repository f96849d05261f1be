"""Rank wiring from SLURM's and torchrun's variables (pure functions, no processes)."""

from __future__ import annotations

import pytest

from cj2.cluster.env import PORT_BASE, PORT_SPAN, dist_env, expand_nodelist, port_for_job, tasks_per_node


@pytest.mark.parametrize(
    "nodelist, hosts",
    [
        ("localhost", ["localhost"]),
        ("gpu[01-03,07]", ["gpu01", "gpu02", "gpu03", "gpu07"]),
        ("gpu[8-10],login1", ["gpu8", "gpu9", "gpu10", "login1"]),
        ("a[1-2]-ib,b3", ["a1-ib", "a2-ib", "b3"]),
    ],
)
def test_expand_nodelist(nodelist, hosts):
    assert expand_nodelist(nodelist) == hosts


def test_slurm_two_nodes_of_eight():
    env = {
        "SLURM_PROCID": "11",
        "SLURM_LOCALID": "3",
        "SLURM_NTASKS": "16",
        "SLURM_TASKS_PER_NODE": "8(x2)",
        "SLURM_NODEID": "1",
        "SLURM_JOB_NODELIST": "node[017-018]",
        "SLURM_JOB_ID": "123456",
        # Exported from the login shell: must not win over the job's own rendezvous.
        "MASTER_ADDR": "login-node",
    }
    de = dist_env(env)
    assert (de.rank, de.local_rank, de.world_size, de.local_world_size, de.node_rank) == (11, 3, 16, 8, 1)
    assert de.master_addr == "node017"
    assert de.master_port == port_for_job("123456")
    assert PORT_BASE <= de.master_port < PORT_BASE + PORT_SPAN


def test_every_task_of_a_job_agrees_on_the_rendezvous():
    common = {"SLURM_NTASKS": "4", "SLURM_NTASKS_PER_NODE": "2", "SLURM_JOB_NODELIST": "n[1-2]", "SLURM_JOB_ID": "77"}
    envs = [dist_env({**common, "SLURM_PROCID": str(r), "SLURM_LOCALID": str(r % 2), "SLURM_NODEID": str(r // 2)}) for r in range(4)]
    assert {(e.master_addr, e.master_port) for e in envs} == {("n1", port_for_job("77"))}
    assert [e.rank for e in envs] == [0, 1, 2, 3]
    assert [e.node_rank for e in envs] == [0, 0, 1, 1]


def test_uneven_tasks_per_node():
    assert tasks_per_node({"SLURM_TASKS_PER_NODE": "2(x3),1", "SLURM_NODEID": "3"}) == 1
    assert tasks_per_node({"SLURM_TASKS_PER_NODE": "2(x3),1", "SLURM_NODEID": "2"}) == 2


def test_torchrun_wins_over_slurm():
    env = {"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29511", "SLURM_PROCID": "0", "SLURM_NTASKS": "1"}
    de = dist_env(env)
    assert (de.rank, de.world_size, de.master_addr, de.master_port) == (1, 2, "127.0.0.1", 29511)


def test_single_process_default():
    de = dist_env({})
    assert (de.rank, de.local_rank, de.world_size, de.node_rank) == (0, 0, 1, 0)


def test_single_process_ignores_an_inherited_port_in_use():
    import socket

    with socket.socket() as held:  # a parent process's rendezvous, still listening
        held.bind(("127.0.0.1", 0))
        held.listen()
        busy = held.getsockname()[1]
        de = dist_env({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(busy)})
    assert de.world_size == 1 and de.master_port != busy


def test_array_tasks_get_different_ports():
    assert port_for_job("1001") != port_for_job("1002")
