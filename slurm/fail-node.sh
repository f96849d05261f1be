#!/usr/bin/env bash
# Lose a namespace node of the local cluster as a machine is lost: cut its link (so no peer gets
# as much as a connection reset from it), then SIGKILL every process in its namespace (its slurmd,
# job steps and tasks). `start-local-slurm.sh` brings it back (link up, slurmd started).
#   fail-node.sh NODE      e.g. cj2-n2
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=nodes.sh
. "$HERE/nodes.sh"

[[ $EUID -eq 0 ]] || die "must run as root"
[[ ${1:-} =~ ^$NODE_PREFIX([0-9]+)$ ]] || die "usage: fail-node.sh ${NODE_PREFIX}K (a namespace node)"
i=${BASH_REMATCH[1]}
net_ours "netns $1" || die "$1 is not a namespace node of this cluster"
ip link set "$(node_veth "$i")" down
kill_node_processes "$i"
log "lost $1: link down, processes killed"
