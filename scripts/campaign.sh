#!/usr/bin/env bash
# campaign.sh: keep a list of long training runs going at low priority.
#
#   scripts/campaign.sh run    LIST [-j N]  resume every unfinished run of LIST, N at a time
#                                           (default 1), at nice 19 on one thread; returns when
#                                           all have finished or stopped
#   scripts/campaign.sh start  LIST [-j N]  the same, detached (survives the shell); log in
#                                           LIST.log
#   scripts/campaign.sh status LIST         each run: epochs done of configured, best
#                                           validation NLL and its epoch, finished/running
#   scripts/campaign.sh pause  LIST         SIGSTOP the running ones (before a benchmark)
#   scripts/campaign.sh cont   LIST         SIGCONT them
#   scripts/campaign.sh stop   LIST         SIGTERM: each saves `last` and exits; resumable
#
# LIST has one run per line: the run directory, then any `latent train --resume` flags
# (--epochs, --valid-every, --keep, ...); `#` starts a comment. A run is finished when its
# metrics.jsonl holds its configured epochs or ends with stop_early. Each run logs to
# RUN/campaign.log; its pid is in RUN/campaign.pid while it trains.
# The binary is $LATENT, else build/latent, else `latent` on PATH; CAMPAIGN_NICE sets the
# niceness (19).
# Exit codes: 0 done, 1 a run failed, 2 bad usage or a bad LIST (file and line named).
set -euo pipefail

die2() { echo "campaign.sh: $*" >&2; exit 2; }
usage() { die2 "usage: campaign.sh run|start|status|pause|cont|stop LIST [-j N]"; }

[ $# -ge 2 ] || usage
cmd=$1 list=$2
shift 2
jobs=1
while [ $# -gt 0 ]; do
    case $1 in
        -j) [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || die2 "-j: expected a positive number of runs"; jobs=$2; shift 2 ;;
        *) die2 "unexpected argument '$1'" ;;
    esac
done
[ -r "$list" ] || die2 "$list: cannot read the run list"

latent=${LATENT:-}
if [ -z "$latent" ]; then
    if [ -x build/latent ]; then latent=$PWD/build/latent; else latent=$(command -v latent || true); fi
fi

# The runs and their flags, checked before anything starts.
runs=() flags=()
n=0
while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%%#*}
    read -r -a words <<<"$line" || true
    [ ${#words[@]} -gt 0 ] || continue
    [ -f "${words[0]}/config.json" ] ||
        die2 "$list line $n: '${words[0]}' is not a run directory (expected ${words[0]}/config.json)"
    runs+=("${words[0]}")
    flags+=("${words[*]:1}")
done <"$list"
[ ${#runs[@]} -gt 0 ] || die2 "$list: no runs listed"

# epochs_done configured_epochs stopped_early best_nll best_epoch
progress() {
    python3 - "$1" <<'EOF'
import json, sys
run = sys.argv[1]
cfg = json.load(open(run + "/config.json"))
done, stop, best, best_e = 0, False, None, 0
try:
    for l in open(run + "/metrics.jsonl"):
        if not l.strip(): continue
        m = json.loads(l)
        done = max(done, m["epoch"]); stop = stop or bool(m.get("stop_early"))
        if m.get("best") and m.get("valid_nll") is not None: best, best_e = m["valid_nll"], m["epoch"]
except FileNotFoundError:
    pass
print(done, cfg.get("epochs", 10), int(stop), "-" if best is None else "%.3f" % best, best_e)
EOF
}

finished() { # finished RUN [flags]: the flags may raise --epochs
    local p want
    read -r -a p <<<"$(progress "$1")"
    want=${p[1]}
    if [[ " $2 " =~ \ --epochs\ ([0-9]+)\  ]]; then want=${BASH_REMATCH[1]}; fi
    [ "${p[2]}" = 1 ] || [ "${p[0]}" -ge "$want" ]
}

running_pid() { # the pid of RUN's campaign process, if alive
    local f=$1/campaign.pid
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

signal_all() {
    local i pid
    for i in "${!runs[@]}"; do
        if pid=$(running_pid "${runs[$i]}"); then kill "-$1" "$pid" && echo "${runs[$i]}: SIG$1 to $pid"; fi
    done
}

train_one() { # train_one INDEX: resume one run in the foreground
    local run=${runs[$1]} st=0
    read -r -a extra <<<"${flags[$1]}"
    if running_pid "$run" >/dev/null; then echo "$run: already training"; return 0; fi
    if finished "$run" "${flags[$1]}"; then echo "$run: finished"; return 0; fi
    echo "$run: resuming ${flags[$1]}"
    OMP_NUM_THREADS=1 nice -n "${CAMPAIGN_NICE:-19}" "$latent" train --resume "$run" --threads 1 "${extra[@]}" >>"$run/campaign.log" 2>&1 &
    echo $! >"$run/campaign.pid"
    wait $! || st=$?
    rm -f "$run/campaign.pid"
    echo "$run: exit $st ($(progress "$run" | awk '{print "epoch " $1 " of " $2 ", best " $4 " at " $5}'))"
    [ "$st" = 0 ] || [ "$st" = 130 ] || [ "$st" = 143 ] # interrupted runs are resumable
}

case $cmd in
    status)
        for i in "${!runs[@]}"; do
            read -r -a p <<<"$(progress "${runs[$i]}")"
            state=waiting
            if running_pid "${runs[$i]}" >/dev/null; then state=running
            elif finished "${runs[$i]}" "${flags[$i]}"; then state=finished; fi
            printf '%s: epoch %s/%s, best validation NLL %s (epoch %s), %s\n' "${runs[$i]}" "${p[0]}" "${p[1]}" "${p[3]}" "${p[4]}" "$state"
        done ;;
    pause) signal_all STOP ;;
    cont) signal_all CONT ;;
    stop) signal_all TERM ;;
    start)
        [ -n "$latent" ] || die2 "no latent binary (set LATENT, or build it)"
        setsid nohup "$0" run "$list" -j "$jobs" >>"$list.log" 2>&1 </dev/null &
        echo "campaign started (pid $!), log $list.log" ;;
    run)
        [ -n "$latent" ] || die2 "no latent binary (set LATENT, or build it)"
        fail=0 active=0
        for i in "${!runs[@]}"; do
            if [ "$active" -ge "$jobs" ]; then wait -n || fail=1; active=$((active - 1)); fi
            train_one "$i" &
            active=$((active + 1))
        done
        while [ "$active" -gt 0 ]; do wait -n || fail=1; active=$((active - 1)); done
        exit $fail ;;
    *) usage ;;
esac
