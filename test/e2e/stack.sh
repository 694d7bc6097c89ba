#!/usr/bin/env bash
# Local stand-in for an AKS cluster with an OIDC issuer plus a Vault, for the
# end-to-end test:
#   etcd + kube-apiserver + kube-controller-manager + kube-scheduler (v1.34.4),
#   kwok faking the kubelets of 3 Nodes (pods go Running, nothing runs),
#   OpenBao `bao server -dev` as Vault,
#   issuer.js (the AKS-shaped OIDC issuer host) and egress.js (the API server's
#   route to webhook Services: an HTTP CONNECT proxy on a Unix socket).
# Everything listens on 127.0.0.1 only, on free ports picked at start.
#
#   test/e2e/stack.sh start <statedir>   # prints "stack: ready ..." and exits 0
#   source <statedir>/env                # KUBECONFIG, VAULT_ADDR, VAULT_TOKEN, ...
#   test/e2e/stack.sh stop <statedir>    # idempotent
#   test/e2e/stack.sh restart <statedir> <component>
#                                        # stops one component if it runs, relaunches it with
#                                        # its recorded command line, waits until it is ready
#
# statedir gets: kubeconfig (admin, 0600), ca.crt, env, pki/, pids/<name>.pid,
# pids/<name>.cmd (the command line, shell-quoted), logs/<name>.log, etcd/
# (data), home/ (HOME of kwok and bao). Restarting bao gives a fresh in-memory
# dev server: everything Vault held is gone (same address and root token).
# Binaries come from test/e2e/toolchain/*.sh (cached outside the clone; a cold
# kubernetes build takes ~10 CPU-minutes).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLCHAIN=$HERE/toolchain

# AKS shape: AKS publishes each cluster's discovery document and JWKS on an
# issuer host of its own, https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/
# (trailing slash), not on the API server. Here that host is issuer.js on
# 127.0.0.1 (@ISSUER@ below), serving the two documents the API server produced
# under the same /<tenant>/<guid>/ path, so Vault's JWT auth discovers the
# issuer exactly as on AKS. AKS_VAULT_E2E_ISSUER overrides it (@APISERVER@
# becomes https://127.0.0.1:<apiserver port>, whose root serves discovery).
K8S_ISSUER=${AKS_VAULT_E2E_ISSUER:-@ISSUER@/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/}
READY_TIMEOUT=${AKS_VAULT_E2E_READY_TIMEOUT:-180}   # seconds, per component
SERVICE_CIDR=10.96.0.0/16                            # config value only; no traffic
SERVICE_IP=10.96.0.1
NODE_ZONES=(eastus-1 eastus-2 eastus-3)
# Start order; stop goes the other way.
COMPONENTS=(etcd bao egress kube-apiserver issuer kube-controller-manager kube-scheduler kwok)

say() { printf 'stack: %s\n' "$*" >&2; }

usage() {
  echo "usage: $0 start <statedir> | stop <statedir> | restart <statedir> <component>" >&2
  exit 2
}

# --- process bookkeeping ---------------------------------------------------
# pids/<name>.pid holds the PID; pids/<name>.start holds the process start time
# (field 22 of /proc/PID/stat) so stop never signals a recycled PID.

proc_field() { # proc_field PID N -> field N (1-based, after "pid (comm)") of /proc/PID/stat
  local stat rest n=$(($2 - 2))
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest
  printf '%s\n' "${!n}"
}

# is_ours STATE NAME -> prints PID and succeeds when NAME's recorded process is alive
is_ours() {
  local state=$1 name=$2 pid start now st
  [[ -f "$state/pids/$name.pid" ]] || return 1
  pid=$(<"$state/pids/$name.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  start=$(cat "$state/pids/$name.start" 2>/dev/null || true)
  now=$(proc_field "$pid" 22 2>/dev/null) || return 1
  [[ -n $start && $now == "$start" ]] || return 1
  st=$(proc_field "$pid" 3 2>/dev/null) || return 1
  [[ $st != Z && $st != X ]] || return 1
  printf '%s\n' "$pid"
}

cmd_stop() {
  local state=$1 name pid names=() left i
  [[ -d "$state/pids" ]] || { say "nothing to stop in $state"; return 0; }
  # Known components in reverse start order, then anything else recorded.
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do names+=("${COMPONENTS[i]}"); done
  for f in "$state"/pids/*.pid; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .pid)
    [[ " ${names[*]} " == *" $name "* ]] || names+=("$name")
  done
  for name in "${names[@]}"; do
    if pid=$(is_ours "$state" "$name"); then
      say "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 150; i++)); do # up to ~15 s for a graceful exit
    left=0
    for name in "${names[@]}"; do is_ours "$state" "$name" >/dev/null && left=1; done
    ((left)) || break
    sleep 0.1
  done
  for name in "${names[@]}"; do
    if pid=$(is_ours "$state" "$name"); then
      say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 50; i++)); do
    left=0
    for name in "${names[@]}"; do is_ours "$state" "$name" >/dev/null && left=1; done
    ((left)) || break
    sleep 0.1
  done
  for name in "${names[@]}"; do
    if is_ours "$state" "$name" >/dev/null; then
      say "error: $name is still running"
      return 1
    fi
    rm -f "$state/pids/$name.pid" "$state/pids/$name.start"
  done
  say "stopped"
}

# --- start helpers -----------------------------------------------------------

STATE=
FAILED_COMPONENT=

fail() { # fail NAME MESSAGE
  FAILED_COMPONENT=$1
  say "error: $1: $2"
  exit 1
}

on_start_exit() {
  local rc=$?
  ((rc == 0)) && return 0
  trap - EXIT
  if [[ -n $FAILED_COMPONENT && -f "$STATE/logs/$FAILED_COMPONENT.log" ]]; then
    say "last lines of $STATE/logs/$FAILED_COMPONENT.log:"
    tail -n 40 "$STATE/logs/$FAILED_COMPONENT.log" | sed 's/^/    /' >&2
  fi
  say "start failed (exit $rc); stopping what was started"
  cmd_stop "$STATE" || true
  exit "$rc"
}

launch() { # launch NAME BINARY ARGS... (extra env via LAUNCH_ENV array)
  local name=$1; shift
  local -a envs=("${LAUNCH_ENV[@]+"${LAUNCH_ENV[@]}"}")
  # The exact command line, for `restart`.
  printf '%q ' env "${envs[@]+"${envs[@]}"}" "$@" >"$STATE/pids/$name.cmd"
  env "${envs[@]+"${envs[@]}"}" "$@" </dev/null >>"$STATE/logs/$name.log" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$STATE/pids/$name.pid"
  local start
  start=$(proc_field "$pid" 22) || fail "$name" "exited immediately"
  printf '%s\n' "$start" >"$STATE/pids/$name.start"
  say "started $name (pid $pid)"
}

# wait_until NAME DESCRIPTION COMMAND... : polls COMMAND until it succeeds,
# failing early when NAME's process has exited.
wait_until() {
  local name=$1 what=$2; shift 2
  local deadline=$((SECONDS + READY_TIMEOUT)) delay=0.1
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    is_ours "$STATE" "$name" >/dev/null || fail "$name" "process exited while waiting for $what"
    ((SECONDS < deadline)) || fail "$name" "timed out after ${READY_TIMEOUT}s waiting for $what"
    sleep "$delay"
    [[ $delay == 0.1 ]] && delay=0.25 || delay=0.5
  done
}

free_ports() { # free_ports N -> N distinct free 127.0.0.1 TCP ports, the last one with port+1 free too
  python3 - "$1" <<'EOF'
import socket, sys
n = int(sys.argv[1])
held, ports = [], []
def grab(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", port))
    held.append(s)
    return s.getsockname()[1]
while len(ports) < n - 1:
    ports.append(grab())
for _ in range(200):  # bao dev binds its cluster listener on port+1
    p = grab()
    try:
        grab(p + 1)
    except OSError:
        continue
    ports.append(p)
    break
else:
    sys.exit("no free port pair")
print(" ".join(map(str, ports)))
EOF
}

gen_pki() {
  local d=$STATE/pki
  mkdir -p "$d"
  (
    cd "$d"
    umask 077
    ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    ec ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=aks-vault-e2e-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out ca.crt 2>/dev/null
    leaf() { # leaf NAME SUBJECT EXTENSIONS
      ec "$1.key"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA "${CA:-ca}.crt" -CAkey "${CA:-ca}.key" -CAcreateserial -sha256 -days 365 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    leaf apiserver "/CN=kube-apiserver" \
      "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    leaf admin "/O=system:masters/CN=kubernetes-admin" \
      "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    # Aggregation-layer (front proxy) CA and client, as kubeadm sets up; without
    # them every component logs "missing content for CA bundle
    # requestheader-client-ca-file" over and over.
    ec front-proxy-ca.key
    openssl req -x509 -new -key front-proxy-ca.key -sha256 -days 3650 -subj "/CN=front-proxy-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out front-proxy-ca.crt 2>/dev/null
    CA=front-proxy-ca leaf front-proxy-client "/CN=front-proxy-client" \
      "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    # Service-account token signing key: RSA, as AKS (RS256 in its JWKS).
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 0644 ca.crt apiserver.crt admin.crt sa.pub front-proxy-ca.crt front-proxy-client.crt
  )
  cp "$d/ca.crt" "$STATE/ca.crt"
}

write_kubeconfig() { # write_kubeconfig FILE
  local b64='base64 -w0'
  (
    umask 077
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: aks-vault-e2e
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $($b64 <"$STATE/pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $($b64 <"$STATE/pki/admin.crt")
    client-key-data: $($b64 <"$STATE/pki/admin.key")
contexts:
- name: aks-vault-e2e
  context:
    cluster: aks-vault-e2e
    user: admin
current-context: aks-vault-e2e
EOF
  )
  chmod 0600 "$1"
}

nodes_yaml() {
  local i name
  for i in 0 1 2; do
    name=kwok-node-$((i + 1))
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    beta.kubernetes.io/arch: amd64
    topology.kubernetes.io/region: eastus
    topology.kubernetes.io/zone: ${NODE_ZONES[i]}
    failure-domain.beta.kubernetes.io/zone: ${NODE_ZONES[i]}
    agentpool: system
    kubernetes.azure.com/agentpool: system
    kubernetes.azure.com/mode: system
    node.kubernetes.io/instance-type: Standard_D4s_v5
status:
  allocatable: {cpu: "4", memory: 16Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "4", memory: 16Gi, pods: "110", ephemeral-storage: 100Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
    kubeProxyVersion: fake
EOF
  done
}

k() { "$K8S_BIN/kubectl" --kubeconfig "$STATE/kubeconfig" --request-timeout=10s "$@"; }

all_nodes_ready() {
  local out
  out=$(k get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}') || return 1
  [[ $(grep -c '^True$' <<<"$out") -eq ${#NODE_ZONES[@]} ]]
}

http_ok() { curl -sf --max-time 3 "$@" -o /dev/null; }

cmd_start() {
  STATE=$1
  mkdir -p "$STATE"
  STATE=$(cd "$STATE" && pwd)
  local name
  for name in "${COMPONENTS[@]}"; do
    if pid=$(is_ours "$STATE" "$name"); then
      say "error: $name (pid $pid) from $STATE is still running; run: $0 stop $STATE"
      exit 1
    fi
  done
  command -v openssl >/dev/null || { say "error: openssl is required"; exit 1; }
  command -v curl >/dev/null || { say "error: curl is required"; exit 1; }
  command -v python3 >/dev/null || { say "error: python3 is required"; exit 1; }

  local t0=$SECONDS
  say "ensuring binaries (toolchain) ..."
  K8S_BIN=$("$TOOLCHAIN/kubernetes.sh" | tail -n1)
  KWOK_BIN=$("$TOOLCHAIN/kwok.sh" | tail -n1)
  BAO_BIN=$("$TOOLCHAIN/openbao.sh" | tail -n1)
  ETCD_BIN=$("$TOOLCHAIN/etcd.sh" | tail -n1)
  local t1=$SECONDS

  local f
  for f in etcd logs pids pki home kcm scheduler env kubeconfig ca.crt kwok.yaml issuer-discovery.yaml egress webhook; do
    rm -rf "${STATE:?}/$f"
  done
  mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/home" "$STATE/kcm" "$STATE/scheduler"
  trap on_start_exit EXIT
  trap 'exit 130' INT TERM HUP

  read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT ISSUER_PORT KCM_PORT SCHEDULER_PORT VAULT_PORT <<<"$(free_ports 7)"
  APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
  VAULT_ADDR=http://127.0.0.1:$VAULT_PORT
  VAULT_TOKEN=root-$(openssl rand -hex 12)
  gen_pki
  write_kubeconfig "$STATE/kubeconfig"
  local pki=$STATE/pki
  K8S_ISSUER=${K8S_ISSUER//@APISERVER@/$APISERVER_URL}
  K8S_ISSUER=${K8S_ISSUER//@ISSUER@/https://127.0.0.1:$ISSUER_PORT}
  # Where the tokens' keys are published: beside the discovery document, as on AKS.
  if [[ $K8S_ISSUER == "$APISERVER_URL/" ]]; then K8S_JWKS_URL=$APISERVER_URL/openid/v1/jwks; else K8S_JWKS_URL=${K8S_ISSUER}openid/v1/jwks; fi
  local -a extra_apiserver_args=()
  read -r -a extra_apiserver_args <<<"${AKS_VAULT_E2E_APISERVER_ARGS:-}"
  # Vault trusts the cluster CA as it trusts public CAs (Go reads
  # SSL_CERT_FILE), as with AKS's publicly trusted issuer host.
  cat /etc/ssl/certs/ca-certificates.crt "$pki/ca.crt" >"$pki/trust-bundle.pem" 2>/dev/null ||
    cp "$pki/ca.crt" "$pki/trust-bundle.pem"

  # etcd 3.5 (toolchain/etcd.sh): client and peer on loopback, data in statedir.
  mkdir -m 0700 "$STATE/etcd"
  launch etcd "$ETCD_BIN/etcd" --name=e2e --data-dir="$STATE/etcd" --logger=zap \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="e2e=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new

  # OpenBao dev server (in-memory, unsealed, KV v2 at secret/). HOME is the
  # statedir's so nothing is written to the user's home.
  LAUNCH_ENV=(HOME="$STATE/home" SSL_CERT_FILE="$pki/trust-bundle.pem")
  launch bao "$BAO_BIN/bao" server -dev -dev-listen-address="127.0.0.1:$VAULT_PORT" \
    -dev-root-token-id="$VAULT_TOKEN" -dev-no-store-token
  LAUNCH_ENV=()

  wait_until etcd "etcd /health" http_ok "http://127.0.0.1:$ETCD_PORT/health"

  # The API server's traffic to Services (webhooks) goes through egress.js, which splices a
  # Service's ClusterIP:port to the 127.0.0.1 port webhook.sh serves it on (egress/routes): the
  # chart's webhook configuration stays as Helm rendered it. A Unix socket: no TCP port.
  mkdir -m 0700 "$STATE/egress"
  : >"$STATE/egress/routes"
  printf '%s\n' \
    "apiVersion: apiserver.k8s.io/v1beta1" \
    "kind: EgressSelectorConfiguration" \
    "egressSelections:" \
    "- name: cluster" \
    "  connection:" \
    "    proxyProtocol: HTTPConnect" \
    "    transport:" \
    "      uds:" \
    "        udsName: $STATE/egress/egress.sock" >"$STATE/egress/config.yaml"
  launch egress node "$HERE/egress.js" "$STATE/egress/egress.sock" "$STATE/egress/routes"
  wait_until egress "the proxy's socket" test -S "$STATE/egress/egress.sock"

  launch kube-apiserver "$K8S_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
    --service-account-issuer="$K8S_ISSUER" \
    --service-account-jwks-uri="$K8S_JWKS_URL" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --api-audiences="$K8S_ISSUER,https://kubernetes.default.svc.cluster.local" \
    --authorization-mode=Node,RBAC --anonymous-auth=true \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --profiling=false \
    --egress-selector-config-file="$STATE/egress/config.yaml" \
    "${extra_apiserver_args[@]+"${extra_apiserver_args[@]}"}"

  wait_until kube-apiserver "/readyz" http_ok --cacert "$pki/ca.crt" \
    --cert "$pki/admin.crt" --key "$pki/admin.key" "$APISERVER_URL/readyz"
  say "kube-apiserver ready after $((SECONDS - t1)) s"

  launch kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$STATE/kubeconfig" \
    --authentication-kubeconfig="$STATE/kubeconfig" --authorization-kubeconfig="$STATE/kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$STATE/kcm" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --use-service-account-credentials=true --controllers='*' \
    --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false \
    --leader-elect=false --profiling=false

  launch kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$STATE/kubeconfig" \
    --authentication-kubeconfig="$STATE/kubeconfig" --authorization-kubeconfig="$STATE/kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --cert-dir="$STATE/scheduler" \
    --leader-elect=false --profiling=false

  # Vault's JWT auth reads the issuer's discovery document and JWKS
  # anonymously, as AKS's public OIDC issuer allows.
  cat >"$STATE/issuer-discovery.yaml" <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: service-account-issuer-discovery-unauthenticated
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:service-account-issuer-discovery
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:unauthenticated
EOF
  wait_until kube-apiserver "ClusterRoleBinding for issuer discovery" k apply -f "$STATE/issuer-discovery.yaml"

  # The issuer endpoint: the API server's own discovery document and JWKS,
  # published under the issuer's path (issuer.js), unless the issuer is the API server.
  if [[ $K8S_ISSUER == https://127.0.0.1:$ISSUER_PORT/* ]]; then
    curl -fsS --cacert "$pki/ca.crt" "$APISERVER_URL/.well-known/openid-configuration" -o "$pki/openid-configuration.json" ||
      fail kube-apiserver "could not read the discovery document"
    curl -fsS --cacert "$pki/ca.crt" "$APISERVER_URL/openid/v1/jwks" -o "$pki/jwks.json" ||
      fail kube-apiserver "could not read the JWKS"
    launch issuer node "$HERE/issuer.js" "$K8S_ISSUER" "$pki/apiserver.crt" "$pki/apiserver.key" \
      "$pki/openid-configuration.json" "$pki/jwks.json"
    wait_until issuer "the discovery document at the issuer" http_ok --cacert "$pki/ca.crt" \
      "${K8S_ISSUER}.well-known/openid-configuration"
  fi
  nodes_yaml | k apply -f - >/dev/null || fail kube-apiserver "could not create the fake Nodes"

  # kwok: fake kubelets for Nodes annotated kwok.x-k8s.io/node=fake. No
  # --server-address/--node-port, so it opens no port. Its own config file
  # (and HOME) keep ~/.kwok out of it.
  cat >"$STATE/kwok.yaml" <<'EOF'
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options: {}
EOF
  LAUNCH_ENV=(HOME="$STATE/home")
  launch kwok "$KWOK_BIN/kwok" --config="$STATE/kwok.yaml" --kubeconfig="$STATE/kubeconfig" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40
  LAUNCH_ENV=()

  wait_until bao "sys/health" http_ok "$VAULT_ADDR/v1/sys/health"
  wait_until kube-controller-manager "/healthz" http_ok -k "https://127.0.0.1:$KCM_PORT/healthz"
  wait_until kube-scheduler "/readyz" http_ok -k "https://127.0.0.1:$SCHEDULER_PORT/readyz"
  wait_until kwok "${#NODE_ZONES[@]} Ready nodes" all_nodes_ready
  wait_until kube-controller-manager "ServiceAccount default/default" k -n default get serviceaccount default
  wait_until kube-apiserver "anonymous /.well-known/openid-configuration" \
    http_ok --cacert "$pki/ca.crt" "$APISERVER_URL/.well-known/openid-configuration"

  local q='printf %q'
  {
    echo "# Written by test/e2e/stack.sh start; source it."
    printf 'export STACK_STATE_DIR=%s\n' "$($q "$STATE")"
    printf 'export KUBECONFIG=%s\n' "$($q "$STATE/kubeconfig")"
    printf 'export K8S_CA_FILE=%s\n' "$($q "$STATE/ca.crt")"
    printf 'export APISERVER_URL=%s\n' "$($q "$APISERVER_URL")"
    printf 'export K8S_ISSUER=%s\n' "$($q "$K8S_ISSUER")"
    printf 'export K8S_JWKS_URL=%s\n' "$($q "$K8S_JWKS_URL")"
    printf 'export VAULT_ADDR=%s\n' "$($q "$VAULT_ADDR")"
    printf 'export VAULT_TOKEN=%s\n' "$($q "$VAULT_TOKEN")"
    printf 'export BAO_ADDR=%s\n' "$($q "$VAULT_ADDR")"
    printf 'export BAO_TOKEN=%s\n' "$($q "$VAULT_TOKEN")"
    printf 'export BAO=%s\n' "$($q "$BAO_BIN/bao")"
    printf 'export KUBECTL=%s\n' "$($q "$K8S_BIN/kubectl")"
    printf 'export K8S_BIN_DIR=%s\n' "$($q "$K8S_BIN")"
    printf 'export KWOK_BIN_DIR=%s\n' "$($q "$KWOK_BIN")"
    printf 'export ETCD_BIN_DIR=%s\n' "$($q "$ETCD_BIN")"
    printf 'export APISERVER_PORT=%s\n' "$APISERVER_PORT"
    printf 'export ETCD_PORT=%s\n' "$ETCD_PORT"
    printf 'export ETCD_PEER_PORT=%s\n' "$ETCD_PEER_PORT"
    printf 'export KCM_PORT=%s\n' "$KCM_PORT"
    printf 'export SCHEDULER_PORT=%s\n' "$SCHEDULER_PORT"
    printf 'export VAULT_PORT=%s\n' "$VAULT_PORT"
    printf 'export VAULT_CLUSTER_PORT=%s\n' "$((VAULT_PORT + 1))"
  } >"$STATE/env.tmp"
  mv "$STATE/env.tmp" "$STATE/env"
  trap - EXIT INT TERM HUP
  say "ready in $((SECONDS - t1)) s after binaries ($((t1 - t0)) s for the toolchain); source $STATE/env"
  say "  apiserver $APISERVER_URL  vault $VAULT_ADDR  issuer $K8S_ISSUER"
}

# stop_one STATE NAME: TERM, then KILL after ~15 s; never a recycled PID.
stop_one() {
  local state=$1 name=$2 pid i
  pid=$(is_ours "$state" "$name") || return 0
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do is_ours "$state" "$name" >/dev/null || return 0; sleep 0.1; done
  say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do is_ours "$state" "$name" >/dev/null || return 0; sleep 0.1; done
  say "error: $name is still running"
  return 1
}

# restart STATE NAME: relaunches one component of a started stack with the command line `start`
# recorded, on the same ports, and waits for the readiness `start` waits for.
cmd_restart() {
  STATE=$(cd "$1" && pwd)
  local name=$2 cmd pid start
  [[ -f "$STATE/env" && -f "$STATE/pids/$name.cmd" ]] || { say "error: no recorded command for $name in $STATE"; exit 1; }
  # shellcheck disable=SC1091
  . "$STATE/env"
  stop_one "$STATE" "$name" || exit 1
  cmd=$(<"$STATE/pids/$name.cmd")
  printf '\n--- restart %s ---\n' "$(date -u +%FT%TZ)" >>"$STATE/logs/$name.log"
  # exec: the recorded PID is the component itself, not a subshell that would outlive a stop.
  eval "exec $cmd" </dev/null >>"$STATE/logs/$name.log" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$STATE/pids/$name.pid"
  start=$(proc_field "$pid" 22) || fail "$name" "exited immediately"
  printf '%s\n' "$start" >"$STATE/pids/$name.start"
  say "restarted $name (pid $pid)"
  local pki=$STATE/pki
  case $name in
    etcd) wait_until etcd "etcd /health" http_ok "http://127.0.0.1:$ETCD_PORT/health" ;;
    bao) wait_until bao "sys/health" http_ok "$VAULT_ADDR/v1/sys/health" ;;
    kube-apiserver)
      wait_until kube-apiserver "/readyz" http_ok --cacert "$pki/ca.crt" \
        --cert "$pki/admin.crt" --key "$pki/admin.key" "$APISERVER_URL/readyz" ;;
    kube-controller-manager) wait_until "$name" "/healthz" http_ok -k "https://127.0.0.1:$KCM_PORT/healthz" ;;
    kube-scheduler) wait_until "$name" "/readyz" http_ok -k "https://127.0.0.1:$SCHEDULER_PORT/readyz" ;;
    egress) wait_until egress "the proxy's socket" test -S "$STATE/egress/egress.sock" ;;
    *) is_ours "$STATE" "$name" >/dev/null || fail "$name" "exited after restart" ;;
  esac
  say "$name ready"
}

case ${1:-} in
  start) [[ $# -eq 2 ]] || usage; cmd_start "$2" ;;
  stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
  restart) [[ $# -eq 3 ]] || usage; cmd_restart "$2" "$3" ;;
  *) usage ;;
esac
