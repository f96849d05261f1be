# The namespace nodes of `start-local-slurm.sh --nodes N` (sourced after lib.sh, not run).
#
# Node i is a network namespace /run/netns/cj2-n<i> whose only link, eth0 ($NET.<i+1>/24), is a
# veth to the bridge $BRIDGE ($NET.1, the controller's address on the host). Its slurmd runs in
# that namespace, in its own UTS namespace (hostname cj2-n<i>) and its own mount namespace, where
# two bind mounts make it a separate machine on the shared filesystem: /etc/hosts gets the nodes'
# names (written for the cluster; the host's file is not touched) and $STATE is the node's own
# directory (its slurmd pidfile, spool and log, as node-local disks are). Job steps on the node
# inherit all of it. `ip netns exec` is not used: it remounts /sys, and slurmd then finds no
# /sys/fs/cgroup.

record_net() { net_ours "$1" || echo "$1" >>"$NET_OURS"; }  # "kind name", after creating it

setup_bridge() {
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
        net_ours "bridge $BRIDGE" || die "a link named $BRIDGE exists that this script did not create"
    else
        [[ -z $(ip -o addr show to "$NET.0/24") && -z $(ip route show "$NET.0/24") ]] ||
            die "$NET.0/24 is already used on this machine; set CJ2_SLURM_NET to a free /24 (e.g. 10.218.0)"
        log "creating bridge $BRIDGE ($NET.1/24)"
        ip link add "$BRIDGE" type bridge
        record_net "bridge $BRIDGE"
        ip addr add "$NET.1/24" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
}

in_node() { local node=$1; shift; nsenter --net="/run/netns/$node" "$@"; }  # node command...

setup_node() {  # index; also brings a failed node's link back up
    local i=$1 node veth
    node=$(node_name "$i") veth=$(node_veth "$i")
    if [[ -e /run/netns/$node ]]; then
        net_ours "netns $node" || die "network namespace $node exists and was not created by this script"
    else
        ip netns add "$node"
        record_net "netns $node"
    fi
    if ip link show "$veth" >/dev/null 2>&1; then
        net_ours "veth $veth" || die "a link named $veth exists that this script did not create"
    else
        log "creating node $node: namespace $node, $veth <-> eth0 ($(node_addr "$i"))"
        ip link add "$veth" type veth peer name eth0 netns "$node"
        record_net "veth $veth"
        ip link set "$veth" master "$BRIDGE"
        in_node "$node" ip addr add "$(node_addr "$i")/24" dev eth0
        in_node "$node" ip link set eth0 up
        in_node "$node" ip link set lo up
    fi
    ip link set "$veth" up
    mkdir -p "$(node_dir "$i")/log" "$(node_dir "$i")/slurmd"
}

write_node_hosts() {  # nodes
    local i
    mkdir -p "$(dirname "$NODE_HOSTS")"
    {
        cat /etc/hosts
        echo "# the cj2 local cluster's nodes (slurm/start-local-slurm.sh)"
        for i in $(node_indices "$1"); do echo "$(node_addr "$i") $(node_name "$i")"; done
    } >"$NODE_HOSTS.new"
    mv "$NODE_HOSTS.new" "$NODE_HOSTS"
}

start_node_slurmd() {  # index
    local i=$1 node
    node=$(node_name "$i")
    log "starting slurmd of $node ($(node_addr "$i"))"
    in_node "$node" unshare --mount --uts sh -ec 'mount --bind "$1" /etc/hosts; mount --bind "$2" "$3"; hostname "$4"; exec slurmd -N "$4"' \
        sh "$NODE_HOSTS" "$(node_dir "$i")" "$STATE" "$node"
}

node_up() {  # index
    local i=$1
    [[ -e /run/netns/$(node_name "$i") ]] && [[ $(ip -o link show "$(node_veth "$i")" 2>/dev/null) == *"state UP"* ]] &&
        pid_alive "$(node_pidfile "$i")" slurmd && node_ready "$(node_name "$i")"
}

# SIGKILL every process in a node's namespace: its slurmd, job steps and tasks.
kill_node_processes() {  # index
    local node pids
    node=$(node_name "$1")
    [[ -e /run/netns/$node ]] || return 0
    # `ip netns pids` fails when a process exits while it scans /proc: what it lists still goes.
    pids=$(ip netns pids "$node" 2>/dev/null) || true
    [[ -z $pids ]] && return 0
    log "killing the processes of $node: $(echo $pids)"
    kill -KILL $pids 2>/dev/null || true
}

# Remove what setup_node and setup_bridge created (only what $NET_OURS lists).
teardown_node() {  # index
    local i=$1 node veth
    node=$(node_name "$i") veth=$(node_veth "$i")
    stop_pid "$(node_pidfile "$i")" slurmd
    if net_ours "netns $node"; then
        kill_node_processes "$i"  # a job process outliving slurmd would keep the namespace alive
        net_ours "veth $veth" && ip link del "$veth" 2>/dev/null
        ip netns del "$node" 2>/dev/null || true
        log "removed node $node"
    fi
    sed -i "/^\(netns $node\|veth $veth\)\$/d" "$NET_OURS" 2>/dev/null || true
    rm -rf "$(node_dir "$i")"
}

teardown_bridge() {
    if net_ours "bridge $BRIDGE"; then
        ip link del "$BRIDGE" 2>/dev/null || true
        log "removed bridge $BRIDGE"
    fi
    rm -f "$NET_OURS" "$NODE_HOSTS"
}

# The indices of the namespace nodes we created (from $NET_OURS).
our_node_indices() {
    [[ -s $NET_OURS ]] || return 0
    sed -n "s/^netns $NODE_PREFIX\([0-9][0-9]*\)\$/\1/p" "$NET_OURS"
}

# Namespace nodes above the new count go, with their links; the bridge goes when none is left.
remove_nodes_above() {  # nodes
    local i
    for i in $(our_node_indices); do
        (($1 > 1 && i <= $1)) || teardown_node "$i"
    done
    (($1 > 1)) || teardown_bridge
}
