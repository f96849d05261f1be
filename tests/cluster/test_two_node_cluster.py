"""`start-local-slurm.sh --nodes 2`: two nodes in network namespaces beside `localhost`.

Each node is its own host on the private link (UTS hostname, address, slurmd) on the shared
filesystem; the nodes' names resolve on every node; the default partitions stay on localhost.
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.cluster.conftest import MULTI

pytestmark = pytest.mark.slurm

# Each task prints: its hostname, its own eth0 address, then how every node name resolves there.
REPORT = 'echo "host $(hostname)"; echo "addr $(ip -o -4 addr show eth0 | sed "s|.* inet \\([0-9.]*\\)/.*|\\1|")"; getent hosts "$@" | sed "s/^/resolves /"'


def per_task(out: str) -> dict[int, list[str]]:
    lines: dict[int, list[str]] = {}
    for line in out.splitlines():
        task, _, text = line.partition(": ")
        lines.setdefault(int(task), []).append(text.strip())
    return lines


def test_each_node_is_its_own_host_and_resolves_every_node(slurm_nodes):
    """Catches: slurmd started without its UTS namespace (every task reports the host's name),
    both nodes on one address, and a hosts file missing in the nodes (getent prints nothing)."""
    assert len(slurm_nodes) == 2
    out = subprocess.run(["srun", "-p", MULTI, "-N", "2", "-l", "-t", "1", "sh", "-c", REPORT, "sh", *slurm_nodes], capture_output=True, text=True, timeout=120, check=True).stdout
    tasks = per_task(out)
    hosts = [tasks[t][0].split()[1] for t in (0, 1)]
    addrs = [tasks[t][1].split()[1] for t in (0, 1)]
    assert hosts == slurm_nodes and socket.gethostname() not in hosts
    assert addrs[0] != addrs[1]
    expected = {f"resolves {addr} {host}" for addr, host in zip(addrs, hosts, strict=True)}
    for t in (0, 1):
        assert {" ".join(line.split()) for line in tasks[t][2:]} == expected, tasks[t]


def test_default_partitions_stay_on_localhost(slurm_nodes):
    """Jobs of the other tests reach servers on the host's 127.0.0.1: only ``multi`` may reach the
    namespace nodes. Catches: the namespace nodes added to debug or batch."""
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%P %N"], capture_output=True, text=True, check=True).stdout
    partitions: dict[str, set[str]] = {}
    for line in out.splitlines():
        partition, node = line.split()
        partitions.setdefault(partition.rstrip("*"), set()).add(node)
    assert partitions == {"debug": {"localhost"}, "batch": {"localhost"}, MULTI: set(slurm_nodes)}
    # A default-partition job runs on this machine's own network (127.0.0.1 is the test's).
    assert subprocess.run(["srun", "-t", "1", "hostname"], capture_output=True, text=True, timeout=120, check=True).stdout.strip() == socket.gethostname()


def free_port_block(n: int) -> int:
    """The first of ``n`` consecutive free TCP ports."""
    for base in range(17817, 27817, 10):
        try:
            socks = [socket.create_server(("0.0.0.0", base + i)) for i in range(n)]
        except OSError:
            continue
        for s in socks:
            s.close()
        return base
    raise AssertionError("no free block of ports")


@pytest.mark.slow
def test_a_second_cluster_starts_two_nodes_and_stop_removes_only_what_it_made(slurm_nodes, repo_root, tmp_path):
    """A cluster of its own (state, config, ports, addresses and names) beside the test cluster:
    `--nodes 2` from cold, a job across its nodes, then stop. What stop must leave: a namespace and a
    link with the cluster's own name prefix that it did not create. Catches: stop deleting by
    prefix instead of by its record (the decoys go), stop forgetting the links or the bridge, and
    a teardown that leaves a namespace node's slurmd running."""
    names, net = "cj2t", "10.219.0"
    port = free_port_block(4)  # slurmctld, slurmd, slurmdbd, MariaDB
    env = {**os.environ, "CJ2_SLURM_STATE": str(tmp_path / "state"), "CJ2_SLURM_ETC": str(tmp_path / "etc"), "CJ2_SLURM_PORT": str(port),
           "CJ2_SLURM_DB_PORT": str(port + 3), "CJ2_SLURM_NET": net, "CJ2_SLURM_NAMES": names, "SLURM_CONF": str(tmp_path / "etc" / "slurm.conf")}
    (tmp_path / "etc").mkdir()
    decoy_ns, decoy_link = f"{names}-n9", f"{names}-v9"
    subprocess.run(["ip", "netns", "add", decoy_ns], check=True)
    try:
        subprocess.run(["ip", "link", "add", decoy_link, "type", "veth", "peer", "name", f"{names}-w9"], check=True)
        scripts = repo_root / "slurm"
        start = subprocess.run(["bash", str(scripts / "start-local-slurm.sh"), "--nodes", "2"], env=env, capture_output=True, text=True, timeout=300)
        try:
            assert start.returncode == 0, start.stderr[-3000:]
            out = subprocess.run(["srun", "-p", MULTI, "-N", "2", "-t", "1", "hostname"], env=env, capture_output=True, text=True, timeout=120, check=True).stdout
            assert sorted(out.split()) == [f"{names}-n1", f"{names}-n2"]
            node_pids = [int((tmp_path / "state" / "node" / f"{names}-n{i}" / "slurmd.pid").read_text()) for i in (1, 2)]
        finally:
            stop = subprocess.run(["bash", str(scripts / "stop-local-slurm.sh")], env=env, capture_output=True, text=True, timeout=300)
        assert stop.returncode == 0, stop.stderr[-3000:]
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
        assert decoy_ns in namespaces and f"{names}-n1" not in namespaces and f"{names}-n2" not in namespaces
        assert f"{decoy_link}@" in links and not any(f"{names}-{link}" in links for link in ("v1@", "v2@", "br:"))
        assert not [pid for pid in node_pids if os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z"]
    finally:
        subprocess.run(["ip", "link", "del", decoy_link], capture_output=True)
        subprocess.run(["ip", "netns", "del", decoy_ns], capture_output=True)
