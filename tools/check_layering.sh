#!/usr/bin/env bash
# Enforces the dependency graph of DESIGN.md / STYLE.md §9 on #include lines:
# a component may include only the public headers of the components below it.
# Exit 1 and name each forbidden edge when one is found.
set -u
# Usage: check_layering.sh [ROOT]   (default: the repository holding this script)
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
status=0

# check DIR PATTERN WHY: no file under DIR may include a header matching PATTERN.
check() {
  local dir=$1 pattern=$2 why=$3
  [ -d "$root/$dir" ] || return 0
  local hits
  hits=$(grep -rnE "#include \"($pattern)" "$root/$dir" --include='*.h' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering violation ($why):"
    echo "$hits" | sed "s|$root/||"
    status=1
  fi
}

# protocol: Abseil only.
check engine/protocol 'xc/(engine|order_service|gateway|scaling)/' "xc::protocol links Abseil only"
# engine_core: protocol + Abseil; no node/io layers, no services, no Boost/liburing/prometheus.
check engine/src 'xc/engine/(node|io)/|xc/(order_service|gateway|scaling)/|boost/|liburing|prometheus/' \
  "xc::engine_core may use only xc::protocol and Abseil"
check engine/include 'xc/engine/(node|io)/|xc/(order_service|gateway|scaling)/|boost/|liburing|prometheus/' \
  "engine_core headers may use only xc::protocol and Abseil"
# engine node/io: never the services.
check engine/node 'xc/(order_service|gateway)/' "engine_node never links the services"
check engine/io 'xc/(order_service|gateway|scaling)/' "engine_io never links the services"
# order service: protocol and its own API; never the engine implementation.
check order-service 'xc/engine/|xc/gateway/' "order_service talks to the engine only through xc::protocol"
# gateway: order-service API, protocol, scaling API; never engine or order-service internals.
check gateway 'xc/engine/|xc/order_service/internal/' "gateway uses only order_service_api, protocol, scaling_api"
# scaling: protocol only.
check scaling 'xc/engine/|xc/order_service/|xc/gateway/' "scaling uses none of the services"
# Nobody reaches into another component's src/ or internal/ directories.
for comp in engine order-service gateway scaling; do
  for other in engine order-service gateway scaling; do
    [ "$comp" = "$other" ] && continue
    check "$comp" "\.\./+$other/|$other/src/" "$comp includes $other internals"
  done
done

[ $status -eq 0 ] && echo "layering: ok"
exit $status
