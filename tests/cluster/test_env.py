"""Rank wiring from SLURM's and torchrun's variables (pure functions, no processes)."""

from __future__ import annotations

import socket

import pytest

from cj2.cluster.env import (
    PORT_BASE,
    PORT_SPAN,
    dist_env,
    expand_nodelist,
    port_for_job,
    route_interface,
    socket_interfaces,
    tasks_per_node,
)


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


def own_ipv4_addresses() -> dict[str, str]:
    import psutil

    return {a.address: name for name, addrs in psutil.net_if_addrs().items() for a in addrs if a.family == socket.AF_INET}


def test_the_route_to_an_address_of_this_host_is_the_interface_that_holds_it():
    """The master's own node reaches the master's address through lo, yet gloo must listen on the
    interface the other nodes reach. Catches: the outgoing interface of the kernel's route taken
    as is (``lo`` for every local address)."""
    owned = own_ipv4_addresses()
    assert owned.get("127.0.0.1") == "lo"
    for address, name in owned.items():
        assert route_interface(address) == name, address
    assert route_interface("no-such-host.invalid") is None


def test_the_socket_interface_comes_from_config_then_environment_then_route():
    """Catches: the environment winning over the config, a derived interface overriding one the
    job's environment set (a site's NCCL_SOCKET_IFNAME=ib0), and one variable set without the other."""
    derived = socket_interfaces("127.0.0.1", None, {})
    assert derived == {"GLOO_SOCKET_IFNAME": "lo", "NCCL_SOCKET_IFNAME": "lo", "source": "route to 127.0.0.1"}
    given = socket_interfaces("127.0.0.1", None, {"NCCL_SOCKET_IFNAME": "ib0"})
    assert given == {"GLOO_SOCKET_IFNAME": "ib0", "NCCL_SOCKET_IFNAME": "ib0", "source": "environment"}
    configured = socket_interfaces("127.0.0.1", "lo", {"GLOO_SOCKET_IFNAME": "ib0"})
    assert configured == {"GLOO_SOCKET_IFNAME": "lo", "NCCL_SOCKET_IFNAME": "lo", "source": "config"}
    assert socket_interfaces("no-such-host.invalid", None, {}) == {}


def test_a_configured_interface_this_host_lacks_is_refused_by_name():
    with pytest.raises(ValueError, match=rf"cluster.socket_ifname=ib7: {socket.gethostname()} has no such interface \(it has .*\blo\b"):
        socket_interfaces("127.0.0.1", "ib7", {})
