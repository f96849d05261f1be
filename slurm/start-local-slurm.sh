#!/usr/bin/env bash
# Install (if missing), configure and start a Slurm 22.05 cluster on this machine: munged,
# MariaDB (private, on 127.0.0.1), slurmdbd, slurmctld, and the node `localhost` (partitions
# debug, the default, and batch). Root, no systemd.
#   --nodes N   N >= 2 adds N nodes cj2-n1..N in partition `multi`, each in its own network
#               namespace on a private bridge (slurm/nodes.sh, docs/cluster.md). Without --nodes
#               a running cluster keeps its nodes, and a fresh one has localhost alone.
#
# Idempotent: a quick no-op while the cluster is up (a lost namespace node is brought back); a
# changed slurm.conf restarts slurmctld and the slurmds; anything else (first start, a daemon
# died) stops what we started, wipes the state directory ($CJ2_SLURM_STATE, default
# /var/tmp/local-slurm) and starts fresh, because stale job-id counters after a crash make Slurm
# reuse ids (docs/cluster.md, "local cluster").
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=nodes.sh
. "$HERE/nodes.sh"

[[ $EUID -eq 0 ]] || die "must run as root (jobs run as root; daemons need /etc/slurm and /run/munge)"

PACKAGES=(munge slurmctld slurmd slurm-client slurm-wlm-basic-plugins slurmdbd slurm-wlm-mysql-plugin mariadb-server)
# `ip` for namespaces, veths and the bridge (nsenter and unshare are in util-linux, always there).
NODE_PACKAGES=(iproute2)

install_packages() {  # package...
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
    log "installing ${missing[*]} (about 25 s)"
    # A fresh image has no package lists yet: update only when the install cannot find them.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
        apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    }
}

render_slurm_conf() {  # nodes
    local nodes=$1 hw cpus boards sockets cores threads mem real i ctld=localhost
    hw=$(slurmd -C | head -1)
    field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$hw"; }
    cpus=$(field CPUs) boards=$(field Boards) sockets=$(field SocketsPerBoard)
    cores=$(field CoresPerSocket) threads=$(field ThreadsPerCore) mem=$(field RealMemory)
    # A RealMemory above what slurmd measures drains the node.
    real=$((mem * 9 / 10))
    # Namespace nodes reach the controller at its bridge address (the host's commands do too).
    ((nodes > 1)) && ctld="localhost($NET.1)"
    cat <<EOF
$MARKER; edit the script, not this file.
ClusterName=localcluster
SlurmctldHost=$ctld
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
AuthType=auth/munge
CredType=cred/munge
# Also how long a requeued job waits before it may run again (the default is 120 s).
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((real / cpus))
EnforcePartLimits=ALL
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=2
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$((PORT + 2))
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
ReturnToService=2
MailProg=/bin/true
MpiDefault=none
KillWait=5
MinJobAge=3600
InactiveLimit=0
EOF
    # Before localhost: while a node table holds only `localhost`, Slurm resolves every name to it
    # (and then calls the next node a duplicate).
    for i in $(node_indices "$nodes"); do
        echo "NodeName=$(node_name "$i") NodeHostname=$(node_name "$i") NodeAddr=$(node_addr "$i") CPUs=$cpus Boards=$boards SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$real State=UNKNOWN"
    done
    cat <<EOF
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus Boards=$boards SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$real State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes=localhost MaxTime=INFINITE State=UP
EOF
    # Only multi-node jobs go there: jobs that reach servers on the host's 127.0.0.1 stay on localhost.
    # Jobs that ask (--oversubscribe) share CPUs: the nodes share the machine's cores anyway.
    ((nodes > 1)) && echo "PartitionName=multi Nodes=$NODE_PREFIX[1-$nodes] MaxTime=INFINITE State=UP OverSubscribe=YES:4"
    return 0
}

render_my_cnf() {
    cat <<EOF
[mysqld]
user=root
datadir=$STATE/mysql/data
socket=$STATE/mysql/mysqld.sock
pid-file=$STATE/mariadbd.pid
port=$DB_PORT
bind-address=127.0.0.1
log-error=$STATE/log/mariadb.log
skip-log-bin
innodb_buffer_pool_size=256M
innodb_log_file_size=64M
innodb_lock_wait_timeout=900
innodb_flush_log_at_trx_commit=2
innodb_doublewrite=0
[client]
user=root
socket=$STATE/mysql/mysqld.sock
EOF
}

render_slurmdbd_conf() {  # password
    cat <<EOF
$MARKER; edit the script, not this file.
AuthType=auth/munge
DbdHost=localhost
DbdPort=$((PORT + 2))
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$1
StorageLoc=slurm_acct_db
EOF
}

ours_or_absent() {  # file
    [[ ! -e $1 ]] || grep -qF "$MARKER" "$1" || die "$1 exists and was not written by this script; move it away to use the local cluster"
}

munge_ok() { pid_alive "$MUNGE_PID" munged && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

# The daemons on the host and the node localhost; namespace nodes are checked one by one (node_up).
cluster_up() {
    munge_ok && pid_alive "$STATE/mariadbd.pid" mariadbd && pid_alive "$STATE/slurmdbd.pid" slurmdbd &&
        pid_alive "$STATE/slurmctld.pid" slurmctld && pid_alive "$STATE/slurmd.pid" slurmd && node_ready localhost
}

start_munge() {
    munge_ok && return 0
    log "starting munged"
    install -d -o munge -g munge -m 0755 /run/munge
    [[ -s /etc/munge/munge.key ]] || die "/etc/munge/munge.key is missing (reinstall the munge package)"
    # munged refuses a key that group or others can read, or that munge does not own.
    chown munge:munge /etc/munge/munge.key /etc/munge
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged --origin=127.0.0.1
    wait_for 10 "munged" munge_ok
    cp "$MUNGE_PID" "$STATE/munged.ours"
}

start_mariadb() {
    local pass=$1
    log "starting MariaDB on 127.0.0.1:$DB_PORT"
    render_my_cnf >"$MYCNF"
    mariadb-install-db --defaults-file="$MYCNF" --auth-root-authentication-method=socket --skip-test-db >"$STATE/log/mariadb-install.log" 2>&1 ||
        die "mariadb-install-db failed: $(tail -5 "$STATE/log/mariadb-install.log")"
    setsid nohup mariadbd --defaults-file="$MYCNF" >>"$STATE/log/mariadb.log" 2>&1 </dev/null &
    wait_for 60 "MariaDB" mariadb --defaults-file="$MYCNF" -e "SELECT 1"
    mariadb --defaults-file="$MYCNF" <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF
}

start_slurmdbd() {
    local pass=$1
    log "starting slurmdbd"
    render_slurmdbd_conf "$pass" >"$DBD_CONF"
    chmod 0600 "$DBD_CONF"
    slurmdbd
    wait_for 60 "slurmdbd" sacctmgr -n list cluster
    sacctmgr -n -P list cluster format=cluster | grep -qx localcluster || sacctmgr -i add cluster localcluster >/dev/null
}

start_slurmctld_and_slurmd() {  # extra slurmctld flags
    log "starting slurmctld $*"
    slurmctld -i "$@"
    wait_for 30 "slurmctld" bash -c "scontrol ping | grep -q UP"
    log "starting slurmd"
    slurmd -N localhost
    wait_for 60 "node localhost to be idle (see $STATE/log/slurmd.log)" node_ready localhost
}

# Create the bridge and each namespace node that is missing, start the slurmds that are not
# running, and wait until every node takes jobs. A node lost with fail-node.sh comes back here.
start_nodes() {  # nodes
    local i node
    (($1 > 1)) || return 0
    setup_bridge
    write_node_hosts "$1"
    for i in $(node_indices "$1"); do
        node_up "$i" && continue
        setup_node "$i"
        pid_alive "$(node_pidfile "$i")" slurmd || start_node_slurmd "$i"
    done
    for i in $(node_indices "$1"); do
        node=$(node_name "$i")
        wait_for 60 "node $node to be idle (see $(node_dir "$i")/log/slurmd.log)" node_ready "$node"
    done
}

check_multi() {  # nodes
    (($1 > 1)) || return 0
    timeout 60 srun -p multi -N "$1" -t 1 true || die "srun -p multi -N $1 true failed; see $STATE/log/slurmctld.log and $STATE/node/*/log/slurmd.log"
}

main() {
    local nodes="" up=false i
    while (($#)); do
        case $1 in
        --nodes) nodes=${2:-} && shift 2 || die "--nodes needs a number" ;;
        *) die "unknown option $1 (usage: start-local-slurm.sh [--nodes N])" ;;
        esac
    done
    [[ -z $nodes || $nodes =~ ^[1-9][0-9]?$ ]] || die "--nodes must be a number from 1 to 99, got '$nodes'"
    install_packages "${PACKAGES[@]}"
    ours_or_absent "$CONF"
    ours_or_absent "$DBD_CONF"
    mkdir -p "$STATE/log" "$STATE/mysql"
    cluster_up && up=true
    if [[ -z $nodes ]]; then
        if $up; then nodes=$(configured_nodes); else nodes=1; fi
    fi
    if ((nodes > 1)); then
        install_packages "${NODE_PACKAGES[@]}"
        # A node's slurmd sees its own directory in place of $STATE.
        [[ $SLURM_ETC != "$STATE"/* ]] || die "CJ2_SLURM_ETC must not be inside CJ2_SLURM_STATE"
    fi
    local new=$STATE/slurm.conf.new
    render_slurm_conf "$nodes" >"$new"

    if $up; then
        if cmp -s "$new" "$CONF"; then
            rm -f "$new"
            start_nodes "$nodes"
            log "already up"
            return 0
        fi
        log "slurm.conf changed: restarting slurmctld and the slurmds ($nodes node(s))"
        for i in $(node_indices "$(configured_nodes)"); do stop_pid "$(node_pidfile "$i")" slurmd; done
        stop_pid "$STATE/slurmd.pid" slurmd
        stop_pid "$STATE/slurmctld.pid" slurmctld
        remove_nodes_above "$nodes"
        mv "$new" "$CONF"
        echo "$nodes" >"$NODES_FILE"
        ((nodes > 1)) && setup_bridge
        start_slurmctld_and_slurmd
        start_nodes "$nodes"
        check_multi "$nodes"
        log "up"
        return 0
    fi

    # Cold start: whatever is left of a previous cluster goes, so ids and accounting start clean.
    bash "$HERE/stop-local-slurm.sh" --keep-munge
    rm -rf "$STATE/slurmctld" "$STATE/slurmd" "$STATE/mysql/data" "$STATE/node"
    mkdir -p "$STATE/slurmctld" "$STATE/slurmd" "$STATE/log" "$STATE/mysql"
    mv "$new" "$CONF"
    echo "$nodes" >"$NODES_FILE"
    local pass
    pass=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
    start_munge
    start_mariadb "$pass"
    start_slurmdbd "$pass"
    # slurmctld's address on the bridge must exist before the host's commands look for it.
    ((nodes > 1)) && setup_bridge
    start_slurmctld_and_slurmd -c
    start_nodes "$nodes"
    timeout 60 srun -t 1 true || die "srun true failed; see $STATE/log/slurmctld.log and slurmd.log"
    check_multi "$nodes"
    if ((nodes > 1)); then
        log "up: partitions debug (default) and batch on localhost, multi on $NODE_PREFIX[1-$nodes]; state in $STATE"
    else
        log "up: partitions debug (default) and batch on localhost; state in $STATE"
    fi
}

main "$@"
