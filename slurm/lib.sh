# Shared by the scripts in slurm/ (sourced, not run).
# A Slurm 22.05 development cluster on this machine, run as root without systemd: the node
# `localhost`, plus, with --nodes N, N nodes in network namespaces (docs/cluster.md). Every daemon
# we start writes a pidfile in $STATE, and only those PIDs are ever stopped.

STATE=${CJ2_SLURM_STATE:-/var/tmp/local-slurm}
SLURM_ETC=${CJ2_SLURM_ETC:-/etc/slurm}
CONF=$SLURM_ETC/slurm.conf
DBD_CONF=$SLURM_ETC/slurmdbd.conf
MARKER="# Written by cj2 slurm/start-local-slurm.sh"
MYCNF=$STATE/mysql/my.cnf
# munged's own pidfile; $STATE/munged.ours records that we (not the system) started it.
MUNGE_PID=/run/munge/munged.pid
# Daemons and commands read this config (it matters when CJ2_SLURM_ETC is not /etc/slurm).
export SLURM_CONF=$CONF
# slurmctld, slurmd and slurmdbd listen on PORT, PORT+1 and PORT+2; MariaDB on DB_PORT. Other
# values let a second cluster (its own CJ2_SLURM_STATE and CJ2_SLURM_ETC) run beside this one.
PORT=${CJ2_SLURM_PORT:-6817}
DB_PORT=${CJ2_SLURM_DB_PORT:-3307}

# The namespace nodes (--nodes N): node i is `cj2-n<i>`, a network namespace of that name whose
# eth0 (address $NET.<i+1>) is one end of a veth; the other end, `cj2-v<i>`, is on the bridge
# `cj2-br` ($NET.1, the controller's address). Nothing else is routed there. A second cluster
# needs its own CJ2_SLURM_NET and CJ2_SLURM_NAMES (the `cj2` of these names).
NET=${CJ2_SLURM_NET:-10.217.0}
NAMES=${CJ2_SLURM_NAMES:-cj2}
BRIDGE=$NAMES-br
NODE_PREFIX=$NAMES-n
# What we created (lines "bridge NAME", "netns NAME", "veth NAME"): the stop script removes these only.
NET_OURS=$STATE/net.ours
# The --nodes of the running cluster: 1 (localhost alone), or N namespace nodes beside it.
NODES_FILE=$STATE/nodes

node_name() { echo "$NODE_PREFIX$1"; }  # index
node_addr() { echo "$NET.$(($1 + 1))"; }  # index
node_veth() { echo "$NAMES-v$1"; }  # index
# A namespace node's own view of $STATE (slurmd's pidfile, spool and log), and its /etc/hosts.
node_dir() { echo "$STATE/node/$(node_name "$1")"; }  # index
NODE_HOSTS=$STATE/node/hosts
configured_nodes() { if [[ -s $NODES_FILE ]]; then cat "$NODES_FILE"; else echo 1; fi; }
# The namespace nodes of --nodes N: none for N=1, else 1..N.
node_indices() { (($1 > 1)) && seq 1 "$1"; true; }  # nodes
node_pidfile() { echo "$(node_dir "$1")/slurmd.pid"; }  # index

net_ours() { [[ -s $NET_OURS ]] && grep -qxF "$1" "$NET_OURS"; }  # "kind name"

log() { printf '[local-slurm %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A pid from a pidfile is ours if the process is alive (not a zombie) and has the expected name.
pid_alive() {  # pidfile comm
    local pidfile=$1 comm=$2 pid state
    # The daemon removes its pidfile as it exits: it may go between the test and the read.
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm ]] || return 1
    [[ $(</proc/$pid/comm) == "$comm" ]] || return 1
    # A stopped daemon may stay a zombie for a while when PID 1 reaps slowly.
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $state != Z ]]
}

# TERM, wait up to 30 s, then KILL; only the pid in the pidfile, checked against its name.
stop_pid() {  # pidfile comm
    local pidfile=$1 comm=$2 pid i
    if ! pid_alive "$pidfile" "$comm"; then
        rm -f "$pidfile"
        return 0
    fi
    pid=$(cat "$pidfile" 2>/dev/null) || return 0  # gone meanwhile
    log "stopping $comm (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        pid_alive "$pidfile" "$comm" || break
        sleep 0.1
    done
    if pid_alive "$pidfile" "$comm"; then
        log "$comm (pid $pid) ignored SIGTERM for 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# A node slurmctld can give jobs to (sinfo prints one line per partition).
node_ready() { [[ $(sinfo -h -N -n "$1" -o %t 2>/dev/null | sort -u) =~ ^(idle|mix|alloc|comp)$ ]]; }  # node

# Poll a command until it succeeds or the timeout (seconds) passes.
wait_for() {  # timeout description command...
    local timeout=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what"
        sleep 0.2
    done
}
