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

# Snapshots: take one offline at seq 12000 in a copy, list it, verify it;
# replay then starts from it and reaches the same state (hash, resting,
# last_seq) as engine-replay; --no-snapshot gives engine-replay's full line.
cp -r "$T/j" "$T/s"
"$J" snapshot "$T/s" --take --at 12000 || fail "snapshot --take"
"$J" snapshot "$T/s" | grep -q "snapshot-00000000000000012000.snap seq=12000 .* OK" \
  || fail "snapshot listing"
"$J" verify "$T/s" | grep -q "newest at seq 12000" || fail "verify with a snapshot"
state() { tr ' ' '\n' | grep -E '^(resting|hash)=' | tr '\n' ' '; }
out=$("$J" replay "$T/s") || fail "replay from a snapshot"
echo "$out"
echo "$out" | head -1 | grep -q "snapshot snapshot-00000000000000012000.snap (seq 12000)" \
  || fail "replay does not name its snapshot"
[ "$(echo "$out" | tail -1 | state)" = "$(echo "$want" | state)" ] || fail "snapshot replay state differs"
echo "$out" | tail -1 | grep -q " last_seq=20500 snapshot_seq=12000$" || fail "summary lacks last_seq/snapshot_seq"
got=$("$J" replay --no-snapshot "$T/s" | tail -1 | sed 's/ ops_per_sec=.*//')
[ "$want" = "$got" ] || fail "--no-snapshot summary differs"
# A corrupt snapshot: verify exits 1 naming it; replay falls back to the journal.
printf '\377' | dd of="$T/s/snapshot-00000000000000012000.snap" bs=1 seek=200 conv=notrunc 2>/dev/null
out=$("$J" verify "$T/s"); rc=$?
[ $rc -eq 1 ] || fail "corrupt snapshot: verify exit $rc, want 1"
echo "$out" | grep -q "snapshot-00000000000000012000.snap .*FAIL .*image CRC mismatch" \
  || fail "verify does not name the corrupt snapshot"
out=$("$J" replay "$T/s" 2>&1) || fail "replay with a corrupt snapshot"
echo "$out" | grep -q "skipped corrupt snapshot" || fail "replay does not warn"
got=$(echo "$out" | tail -1 | sed 's/ ops_per_sec=.*//')
[ "$want" = "$got" ] || fail "fallback replay differs"
# Retention: a fresh snapshot with --retention delete in a journal of one
# segment removes nothing (the newest segment always stays).
"$J" snapshot "$T/s" --take --retention delete > /dev/null || fail "take with retention"
[ -n "$(ls "$T"/s/journal-*.log)" ] || fail "retention removed the only segment"

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
