#!/usr/bin/env bash
# Stop the local cluster started by start-local-slurm.sh: cancel every job (job processes
# outlive slurmd), then stop the slurmds, slurmctld, slurmdbd and MariaDB by the PIDs in their
# pidfiles, and munged only if the start script started it; remove the namespace nodes, their
# links and the bridge that it created (listed in $STATE/net.ours). Idempotent; kills nothing by name.
#   --keep-munge   leave munged running (used by the start script's clean restart)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=nodes.sh
. "$HERE/nodes.sh"

[[ $EUID -eq 0 ]] || die "must run as root"
keep_munge=false
[[ ${1:-} == --keep-munge ]] && keep_munge=true

queue_empty() { [[ -z $(squeue -h -o %i 2>/dev/null) ]]; }

if pid_alive "$STATE/slurmctld.pid" slurmctld && ! queue_empty; then
    log "cancelling $(squeue -h -o %i | wc -l) job(s)"
    scancel --full $(squeue -h -o %i) 2>/dev/null || true
    deadline=$((SECONDS + 60))
    until queue_empty || ((SECONDS >= deadline)); do sleep 0.5; done
    queue_empty || log "jobs still listed after 60 s: $(squeue -h -o '%i %T' | tr '\n' ' ')"
fi
remove_nodes_above 1
stop_pid "$STATE/slurmd.pid" slurmd
stop_pid "$STATE/slurmctld.pid" slurmctld
stop_pid "$STATE/slurmdbd.pid" slurmdbd
stop_pid "$STATE/mariadbd.pid" mariadbd
if ! $keep_munge && [[ -s $STATE/munged.ours ]]; then
    # Ours only if it is still the munged we recorded at start.
    if [[ -s $MUNGE_PID && $(<"$MUNGE_PID") == $(<"$STATE/munged.ours") ]]; then
        stop_pid "$STATE/munged.ours" munged
    fi
    rm -f "$STATE/munged.ours"
fi
rm -f "$NODES_FILE"
log "stopped"
