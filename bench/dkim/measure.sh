#!/bin/sh
# Inside the benchmark's container: MESSAGES through Postfix with the DKIM milter (port 25) and
# without it (port 2526), ROUNDS times each, alternating which goes first. smtp-source submits
# over SESSIONS parallel sessions; Postfix relays every message to smtp-sink on 127.0.0.1:2525.
# Prints one line per run: round, port, seconds until all were accepted, seconds until the
# queue was empty (all delivered to the sink). Everything stays on this container's loopback.
#   lms-mail-bench-dkim MESSAGES ROUNDS SESSIONS SIZE
set -eu
messages=$1 rounds=$2 sessions=$3 size=$4
checkdir=/tmp/bench-sink-check
sink=

start_sink() {
  smtp-sink -u nobody "$@" 127.0.0.1:2525 256 &
  sink=$!
  sleep 1
  kill -0 "$sink" || { echo "smtp-sink did not start" >&2; exit 1; }
}

stop_sink() {
  kill "$sink"
  wait "$sink" 2>/dev/null || true
}

# Wait until Postfix's queue is empty; a deferred message means the set-up is broken.
wait_empty() {
  i=0
  while [ -n "$(postqueue -j)" ]; do
    i=$((i + 1))
    if [ "$i" -gt 3000 ] || postqueue -j | grep -q '"delay_reason"'; then
      echo "messages stay in the queue:" >&2
      postqueue -p >&2
      journalctl --no-pager -q --since=-10min | grep -iE 'opendkim|milter|4\.7\.1' | tail -30 >&2
      exit 1
    fi
    sleep 0.1
  done
}

send() {
  smtp-source -s "$2" -m "$1" -l "$size" -f bench@school.test -t sink@students.test "127.0.0.1:$3"
}

now() { date +%s.%N; }

# First prove what is measured: port 25 signs, port 2526 does not.
rm -rf "$checkdir" && mkdir -p "$checkdir" && chmod 1777 "$checkdir"
postsuper -d ALL >/dev/null 2>&1
start_sink -d "$checkdir/%s."
for port in 25 2526; do
  send 3 1 "$port"
  wait_empty
  sleep 1
  signed=$(grep -l '^DKIM-Signature: .*d=school.test' "$checkdir"/* 2>/dev/null | wc -l)
  echo "check $port $signed"
  rm -f "$checkdir"/*
done
stop_sink

start_sink
round=1
while [ "$round" -le "$rounds" ]; do
  if [ $((round % 2)) -eq 1 ]; then order="25 2526"; else order="2526 25"; fi
  for port in $order; do
    start=$(now)
    send "$messages" "$sessions" "$port"
    accepted=$(now)
    wait_empty
    delivered=$(now)
    echo "run $round $port $(awk "BEGIN { print $accepted - $start }") $(awk "BEGIN { print $delivered - $start }")"
  done
  round=$((round + 1))
done
stop_sink
