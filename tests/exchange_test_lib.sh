# Shared by the shell tests that run the exchange binary (sourced, not run):
# checks for curl, makes $tmp (removed at exit, with the exchange killed if
# still running as $pid), and fail() which prints the exchange's output.
if ! command -v curl >/dev/null; then
  echo "curl not installed (scripts/install-deps.sh installs it)"; exit 1
fi
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- exchange stdout"; cat "$tmp/out" 2>/dev/null
         echo "--- exchange stderr"; cat "$tmp/err" 2>/dev/null; exit 1; }
