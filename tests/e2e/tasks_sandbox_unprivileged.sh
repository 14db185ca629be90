#!/usr/bin/env bash
# sdz-labels: e2e
# The sandbox as an unprivileged user (root drops to nobody for this test). With user namespaces the
# network is still cut (a connection attempt sees "network unreachable", errno 101); where isolation is
# not permitted (here forced with reward.sandbox_userns=false) the sandbox says so clearly:
# --check-sandbox reports it, policy "isolate" runs with a warning, policy "require" refuses.
source "$(dirname "$0")/_lib.sh"

as_user=()
if [[ $(id -u) == 0 ]]; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chmod 755 "$scratch"
fi
cat > "$scratch/in.jsonl" <<'J'
{"kind":"code","response":"```python\nprint(int(input()) + 1)\n```","tests":[{"input":"1","output":"2"}]}
J
cat > "$scratch/net.jsonl" <<'J'
{"kind":"code","response":"```python\nimport socket\ns = socket.socket()\ntry:\n    s.connect(('127.0.0.1', 1))\n    print('connected')\nexcept OSError as e:\n    print(e.errno)\n```","tests":[{"input":"","output":"101"}]}
J
chmod 644 "$scratch"/*.jsonl
cd "$scratch"

out=$("${as_user[@]}" "$SDZERO" verify --check-sandbox)
expect_contains "$out" "read-only mounts: no" "report"
if [[ "$out" == *"network namespace: yes"* ]]; then
  out=$("${as_user[@]}" "$SDZERO" verify --in "$scratch/net.jsonl")
  expect_contains "$out" '"reward":1.0' "unprivileged programs are cut from the network"
fi

out=$("${as_user[@]}" "$SDZERO" verify --check-sandbox --reward.sandbox_userns=false)
expect_contains "$out" "network namespace: NOT PERMITTED" "report without user namespaces"

out=$("${as_user[@]}" "$SDZERO" verify --in "$scratch/in.jsonl" --reward.sandbox_userns=false 2> "$scratch/err")
expect_contains "$out" '"reward":1.0' "isolate policy still runs the program"
expect_contains "$(cat "$scratch/err")" "WARN: code sandbox: network namespace: NOT PERMITTED" "isolate policy warns"

out=$("${as_user[@]}" "$SDZERO" verify --in "$scratch/in.jsonl" --reward.sandbox_userns=false \
      --reward.sandbox_network=require 2>/dev/null)
expect_contains "$out" '"reward":0.0' "require policy refuses"
expect_contains "$out" "network namespaces are not permitted here (reward.sandbox_network=require)" "require reason"
