# Shared by start-local-slurm.sh and stop-local-slurm.sh (sourced, not run).
# A single-node Slurm 22.05 development cluster on localhost, run as root without systemd;
# see docs/cluster.md. Every daemon we start writes a pidfile in $STATE, and only those PIDs
# are ever stopped.

STATE=${CJ2_SLURM_STATE:-/var/tmp/local-slurm}
SLURM_ETC=${CJ2_SLURM_ETC:-/etc/slurm}
CONF=$SLURM_ETC/slurm.conf
DBD_CONF=$SLURM_ETC/slurmdbd.conf
MARKER="# Written by cj2 slurm/start-local-slurm.sh"
MYCNF=$STATE/mysql/my.cnf
# munged's own pidfile; $STATE/munged.ours records that we (not the system) started it.
MUNGE_PID=/run/munge/munged.pid

log() { printf '[local-slurm %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A pid from a pidfile is ours if the process is alive (not a zombie) and has the expected name.
pid_alive() {  # pidfile comm
    local pidfile=$1 comm=$2 pid state
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
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
    pid=$(<"$pidfile")
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
