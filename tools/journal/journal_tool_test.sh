#!/bin/sh
# journal tool end to end: import a generated flow, verify it, replay it
# (the summary must match engine-replay's on the same flow), then damage it.
#   journal_tool_test.sh JOURNAL FLOWGEN ENGINE_REPLAY
set -u
J=$1; FLOWGEN=$2; REPLAY=$3
T=$(mktemp -d /tmp/xc_journal_tool_XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$FLOWGEN" --seed 3 --resting 500 --depth-mean 8 --ops 20000 > "$T/flow.csv" || fail flowgen
"$J" import "$T/flow.csv" "$T/j" --backend pwrite --policy fsync || fail import
"$J" verify "$T/j" || fail "verify of a clean journal: exit $?"
"$J" dump "$T/j" | head -3
want=$("$REPLAY" --no-latency "$T/flow.csv" | tail -1 | sed 's/ ops_per_sec=.*//')
got=$("$J" replay "$T/j" | tail -1 | sed 's/ ops_per_sec=.*//')
echo "engine-replay: $want"
echo "journal replay: $got"
[ -n "$want" ] && [ "$want" = "$got" ] || fail "replay summary differs"

SEG=$(ls "$T"/j/journal-*.log | head -1)
SIZE=$(wc -c < "$SEG")
# Torn tail: cut the last record in half. verify reports it (exit 1) and
# changes nothing; replay still works up to it.
truncate -s $((SIZE - 50)) "$SEG"
"$J" verify "$T/j"; rc=$?
[ $rc -eq 1 ] || fail "torn tail: verify exit $rc, want 1"
[ "$(wc -c < "$SEG")" -eq $((SIZE - 50)) ] || fail "verify changed the file"
"$J" replay "$T/j" > /dev/null || fail "replay with a torn tail"

# Mid-file corruption: flip a byte of record 10. verify exits 1 naming the
# file and the record's offset (48 + 9 * 104 = 984).
printf '\377' | dd of="$SEG" bs=1 seek=1000 conv=notrunc 2>/dev/null
out=$("$J" verify "$T/j"); rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "corruption: verify exit $rc, want 1"
echo "$out" | grep -q "journal corruption in $SEG at offset 984" || fail "message lacks file+offset"
"$J" replay "$T/j" > /dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "corruption: replay exit $rc, want 1"

# Usage and missing directory: exit 2.
"$J" verify "$T/nope" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing dir: exit $rc, want 2"
"$J" frobnicate > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "usage: exit $rc, want 2"
echo PASS
