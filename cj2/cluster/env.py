"""The one place where a job's environment becomes torch.distributed ranks.

A SLURM job runs one task per GPU (submitit does not wrap torchrun, submitit#1764), so each
task reads its rank from SLURM's variables; local development uses torchrun's variables; a
plain ``python`` run is a world of one. Rank 0's host is the master address on every node
(pytorch#137402), and the port is derived from the job id so every task agrees on it without
talking to the others first. gloo and NCCL open their sockets on the interface the config names
(``cluster.socket_ifname``), else on the one already in GLOO_SOCKET_IFNAME / NCCL_SOCKET_IFNAME,
else on the one this host reaches the master through: a wrong interface is the classic multi-node hang.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

# Ports derived from a job id fall in [BASE, BASE + SPAN): above the well-known range and
# below Linux's default ephemeral range (32768+), so an outgoing connection rarely holds one.
PORT_BASE = 15000
PORT_SPAN = 15000


@dataclass(frozen=True)
class DistEnv:
    rank: int
    local_rank: int
    world_size: int
    local_world_size: int
    node_rank: int
    master_addr: str
    master_port: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def expand_nodelist(nodelist: str) -> list[str]:
    """Expand SLURM's compact host list (``gpu[01-03,07],login1``) into host names, in order."""
    hosts: list[str] = []
    # Split on commas that are outside brackets.
    for part in re.findall(r"[^,\[]+(?:\[[^\]]*\])?[^,\[]*", nodelist):
        m = re.fullmatch(r"([^\[]*)\[([^\]]*)\](.*)", part)
        if not m:
            hosts.append(part)
            continue
        prefix, ranges, suffix = m.groups()
        for r in ranges.split(","):
            lo, _, hi = r.partition("-")
            if not hi:
                hosts.append(f"{prefix}{lo}{suffix}")
                continue
            width = len(lo)  # keeps zero padding: 01-03 -> 01 02 03
            hosts.extend(f"{prefix}{i:0{width}d}{suffix}" for i in range(int(lo), int(hi) + 1))
    return hosts


def first_host(nodelist: str) -> str:
    """The first host of a node list; asks ``scontrol`` when it is available, else parses it."""
    try:
        out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.split():
            return out.stdout.split()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    return expand_nodelist(nodelist)[0]


def port_for_job(job_id: str) -> int:
    # SLURM_JOB_ID is unique per array task too, so array tasks sharing a node get different ports.
    digits = re.sub(r"\D", "", job_id) or "0"
    return PORT_BASE + int(digits) % PORT_SPAN


def tasks_per_node(env: Mapping[str, str]) -> int:
    """SLURM_NTASKS_PER_NODE, or this node's entry of SLURM_TASKS_PER_NODE (``2(x3),1``)."""
    if env.get("SLURM_NTASKS_PER_NODE"):
        return int(env["SLURM_NTASKS_PER_NODE"])
    spec = env.get("SLURM_TASKS_PER_NODE") or env.get("SLURM_STEP_TASKS_PER_NODE")
    if not spec:
        return int(env.get("SLURM_NTASKS", "1"))
    counts: list[int] = []
    for item in spec.split(","):
        m = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", item.strip())
        if not m:
            raise ValueError(f"cannot parse SLURM_TASKS_PER_NODE={spec!r}")
        counts.extend([int(m.group(1))] * int(m.group(2) or 1))
    node = int(env.get("SLURM_NODEID", "0"))
    return counts[min(node, len(counts) - 1)]


def _from_slurm(env: Mapping[str, str]) -> DistEnv:
    nodelist = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST") or "localhost"
    # MASTER_ADDR/PORT exported on the login node reach the job through sbatch's --export=ALL
    # and would be stale there, so they are derived, never inherited.
    return DistEnv(
        rank=int(env["SLURM_PROCID"]),
        local_rank=int(env.get("SLURM_LOCALID", "0")),
        world_size=int(env.get("SLURM_NTASKS", "1")),
        local_world_size=tasks_per_node(env),
        node_rank=int(env.get("SLURM_NODEID", "0")),
        master_addr=first_host(nodelist),
        master_port=port_for_job(env.get("SLURM_JOB_ID", "0")),
    )


def _from_torchrun(env: Mapping[str, str]) -> DistEnv:
    world = int(env["WORLD_SIZE"])
    local_world = int(env.get("LOCAL_WORLD_SIZE", world))
    rank = int(env["RANK"])
    return DistEnv(
        rank=rank,
        local_rank=int(env.get("LOCAL_RANK", rank)),
        world_size=world,
        local_world_size=local_world,
        node_rank=int(env.get("GROUP_RANK", rank // max(local_world, 1))),
        master_addr=env.get("MASTER_ADDR", "127.0.0.1"),
        master_port=int(env.get("MASTER_PORT", "29500")),
    )


def dist_env(env: Mapping[str, str] | None = None) -> DistEnv:
    """Ranks and rendezvous of this process: torchrun's variables, SLURM's, or a world of one.

    torchrun's win when both are set (torchrun started inside an allocation); SLURM's are used
    only inside a job step (``SLURM_PROCID`` is set by srun / sbatch tasks, not by salloc).
    """
    env = os.environ if env is None else env
    if "RANK" in env and "WORLD_SIZE" in env:
        return _from_torchrun(env)
    if "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
        return _from_slurm(env)
    # A world of one still needs a rendezvous port, private to this process: a fixed one, or a
    # MASTER_PORT inherited from a parent that holds it, would collide.
    return DistEnv(0, 0, 1, 1, 0, "127.0.0.1", free_port())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The variables gloo and NCCL read for the interface of their sockets (a comma list is allowed).
IFNAME_VARS = ("GLOO_SOCKET_IFNAME", "NCCL_SOCKET_IFNAME")


def route_interface(addr: str) -> str | None:
    """The interface this host reaches ``addr`` through: the one holding the source address the
    kernel picks for it (for one of this host's own addresses, the interface that has it)."""
    import psutil

    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(addr, 9, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(sockaddr)  # UDP: nothing is sent, the kernel only picks the route
            source = s.getsockname()[0]
    except OSError:
        return None
    for name, addrs in psutil.net_if_addrs().items():
        if any(a.address.split("%")[0] == source for a in addrs):
            return name
    return None


def socket_interfaces(master_addr: str, configured: str | None, env: Mapping[str, str]) -> dict[str, str]:
    """GLOO_SOCKET_IFNAME / NCCL_SOCKET_IFNAME for this process and ``source``, where they came from:
    ``config`` (``cluster.socket_ifname``, which must exist here); ``environment`` (either variable
    already set: passed through, and used for the other one too); or ``route to <master>``. Empty
    when none applies (no route: gloo and NCCL then choose themselves)."""
    if configured:
        import psutil

        present = sorted(psutil.net_if_addrs())
        if configured not in present:
            raise ValueError(f"cluster.socket_ifname={configured}: {socket.gethostname()} has no such interface (it has {', '.join(present)})")
        return {**dict.fromkeys(IFNAME_VARS, configured), "source": "config"}
    given = {var: env[var] for var in IFNAME_VARS if env.get(var)}
    if given:
        either = next(iter(given.values()))
        return {**{var: given.get(var, either) for var in IFNAME_VARS}, "source": "environment"}
    derived = route_interface(master_addr)
    return {**dict.fromkeys(IFNAME_VARS, derived), "source": f"route to {master_addr}"} if derived else {}


def init_distributed(timeout_s: int, socket_ifname: str | None = None) -> DistEnv:
    """Join the process group of this job (gloo on CPU, NCCL on GPU) and return the ranks.

    Every collective fails after ``timeout_s`` instead of hanging when a peer died, and a
    failure to join names this rank and the rendezvous it tried. ``socket_ifname``: the network
    interface for gloo's and NCCL's sockets (``cluster.socket_ifname``; None: see the module doc).
    """
    from datetime import timedelta

    import torch
    import torch.distributed as dist

    from cj2.cluster import peers

    de = dist_env()
    if dist.is_initialized():
        return de
    sockets = socket_interfaces(de.master_addr, socket_ifname, os.environ)
    os.environ.update({var: sockets[var] for var in IFNAME_VARS if var in sockets})
    os.environ.update(
        MASTER_ADDR=de.master_addr,
        MASTER_PORT=str(de.master_port),
        RANK=str(de.rank),
        WORLD_SIZE=str(de.world_size),
        LOCAL_RANK=str(de.local_rank),
        LOCAL_WORLD_SIZE=str(de.local_world_size),
    )
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(de.local_rank % torch.cuda.device_count())
    backend = "nccl" if use_cuda else "gloo"
    where = f"{socket.gethostname()}, interface {sockets.get('GLOO_SOCKET_IFNAME', 'unset')} ({sockets.get('source', 'no route found')})"
    try:
        dist.init_process_group(backend=backend, init_method="env://", rank=de.rank, world_size=de.world_size, timeout=timedelta(seconds=timeout_s))
    except Exception as e:
        raise RuntimeError(f"rank {de.rank}/{de.world_size} (local {de.local_rank}, node {de.node_rank} on {where}) could not join the {backend} process group at {de.master_addr}:{de.master_port} within {timeout_s}s: {e}") from e
    if de.world_size > 1:
        print(f"cj2: rank {de.rank}/{de.world_size} on {where} joined {backend} at {de.master_addr}:{de.master_port}", flush=True)
    peers.start(de, timeout_s, sockets)
    return de
