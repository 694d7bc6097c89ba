#!/usr/bin/env bash
# Serves the Vault Agent injector webhook on 127.0.0.1 with the injector's real
# code (vault-k8s, built by toolchain/vault-k8s.sh), configured from the chart's
# own injector Deployment.
#
#   webhook.sh start <statedir> <namespace> <release>
#   webhook.sh stop  <statedir>
#
# Why: kwok pods run no process, so the chart's injector Deployment never
# serves its webhook. `start` reads that Deployment (<release>-agent-injector in
# <namespace>; <release> is the chart's fullname, i.e. the Helm release name when
# it contains "vault") from the API server, takes its container's env exactly as
# the chart rendered it, resolves valueFrom the way the kubelet would for a pod
# of that Deployment, and runs `vault-k8s <container args>` with that env,
# overriding only:
#   AGENT_INJECT_LISTEN              127.0.0.1:<free port>
#   AGENT_INJECT_USE_LEADER_ELECTOR  false (one process, no lease to contend for)
# So TLS is the chart's: vault-k8s's auto TLS makes a CA and a certificate for
# AGENT_INJECT_TLS_AUTO_HOSTS (the Service's DNS names) and patches that CA into
# the MutatingWebhookConfiguration (<release>-agent-injector-cfg) itself, as it
# does on AKS; nothing else of that object is touched, so Helm upgrades patch it
# as they would there. The API server reaches the webhook through the Service
# (clientConfig.service): stack.sh sends its cluster traffic through egress.js,
# and `start` adds `<the Service's ClusterIP>:<port> 127.0.0.1:<port>` to
# <statedir>/egress/routes for every Service the configuration's webhooks name.
# `start` returns once a TLS request to the Service's name (resolved to
# 127.0.0.1), verified with the patched caBundle, gets /health/ready 204.
#
# Kubernetes client: vault-k8s 1.6.2 only uses rest.InClusterConfig()
# (subcommand/injector/command.go), i.e. KUBERNETES_SERVICE_HOST/PORT plus a
# bearer token and CA at the fixed paths
# /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}; a kubeconfig is
# never read. So the admin kubeconfig is used to mint a token for the
# Deployment's own ServiceAccount (`kubectl create token`, so the injector runs
# with exactly the chart's RBAC), and the process runs in a private mount
# namespace (unshare) where those files are bind-mounted; the host's /var/run is
# not touched.
#
# Files: <statedir>/pids/webhook.{pid,start} (stack.sh's convention, so
# `stack.sh stop` stops it as well), <statedir>/logs/webhook.log,
# <statedir>/webhook/ (token, resolved env, the patched CA), <statedir>/egress/routes
# (emptied by `stop`).
# Env knobs: WEBHOOK_READY_TIMEOUT (s, default 90), WEBHOOK_TOKEN_DURATION
# (default 24h), KUBECTL (kubectl binary; else PATH, else toolchain/kubernetes.sh).
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VAULT_K8S_VERSION=1.6.2
SA_MOUNT=/var/run/secrets/kubernetes.io/serviceaccount

log() { printf 'webhook: %s\n' "$*" >&2; }
die() { printf 'webhook: error: %s\n' "$*" >&2; exit 1; }
usage() {
  printf 'usage: %s start <statedir> <namespace> <release>\n       %s stop <statedir>\n' "$0" "$0" >&2
  exit 2
}

# proc_start PID -> the start time (field 22 of /proc/PID/stat) of a live,
# non-zombie process.
proc_start() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest
  [[ $1 != Z && $1 != X ]] || return 1
  printf '%s\n' "${20}"
}

# pid_is_ours STATEDIR -> prints the webhook PID and succeeds when the process
# recorded in pids/webhook.pid is alive and has the start time recorded in
# pids/webhook.start (stack.sh's convention, so `stack.sh stop` stops it too):
# a recycled PID is never signalled.
pid_is_ours() {
  local state=$1 pid start now
  [[ -f $state/pids/webhook.pid ]] || return 1
  pid=$(<"$state/pids/webhook.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  start=$(cat "$state/pids/webhook.start" 2>/dev/null || true)
  now=$(proc_start "$pid") || return 1
  [[ -n $start && $now == "$start" ]] || return 1
  printf '%s\n' "$pid"
}

cmd_stop() {
  local statedir=$1 pid i
  if ! pid=$(pid_is_ours "$statedir"); then
    log "not running (statedir $statedir)"
    rm -f "$statedir/pids/webhook.pid" "$statedir/pids/webhook.start"
    clear_routes "$statedir"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do # up to 10 s
    pid_is_ours "$statedir" >/dev/null || break
    sleep 0.1
  done
  if pid_is_ours "$statedir" >/dev/null; then
    log "pid $pid still alive 10 s after TERM; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pid_is_ours "$statedir" >/dev/null || break
      sleep 0.1
    done
  fi
  pid_is_ours "$statedir" >/dev/null && die "could not stop pid $pid"
  rm -f "$statedir/pids/webhook.pid" "$statedir/pids/webhook.start"
  clear_routes "$statedir"
  log "stopped vault-k8s (pid $pid)"
}

# clear_routes STATEDIR: the API server's calls get 502 from egress.js, as from a
# Service without ready endpoints.
clear_routes() {
  [[ -f $1/egress/routes ]] && : >"$1/egress/routes"
  return 0
}

find_kubectl() {
  if [[ -n ${KUBECTL:-} ]]; then
    [[ -x $KUBECTL ]] || die "KUBECTL=$KUBECTL is not executable"
    printf '%s\n' "$KUBECTL"
  elif command -v kubectl >/dev/null 2>&1; then
    command -v kubectl
  else
    local dir
    dir=$("$E2E_DIR/toolchain/kubernetes.sh" | tail -n1) || die "toolchain/kubernetes.sh failed"
    [[ -x $dir/kubectl ]] || die "no kubectl in $dir"
    printf '%s\n' "$dir/kubectl"
  fi
}

# free_port -> a TCP port nobody listens on, below the ephemeral range.
free_port() {
  local i port
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 12000))
    if [[ -z $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  die "no free port found"
}

cmd_start() {
  local statedir=$1 ns=$2 release=$3
  [[ -f $statedir/env ]] || die "$statedir/env not found (is the stack started?)"
  statedir=$(cd "$statedir" && pwd)
  set -a
  # shellcheck disable=SC1091
  source "$statedir/env"
  set +a
  [[ -n ${KUBECONFIG:-} ]] || KUBECONFIG="$statedir/kubeconfig"
  [[ -f $KUBECONFIG ]] || die "kubeconfig $KUBECONFIG not found"
  export KUBECONFIG

  local pidfile="$statedir/pids/webhook.pid" logfile="$statedir/logs/webhook.log"
  local wdir="$statedir/webhook"
  mkdir -p "$statedir/pids" "$statedir/logs" "$wdir"
  local running
  if running=$(pid_is_ours "$statedir"); then
    die "already running (pid $running); run: $0 stop $statedir"
  fi

  local kubectl bindir vk8s
  kubectl=$(find_kubectl)
  bindir=$("$E2E_DIR/toolchain/vault-k8s.sh" | tail -n1) || die "toolchain/vault-k8s.sh failed"
  vk8s="$bindir/vault-k8s"
  [[ -x $vk8s ]] || die "no vault-k8s in $bindir"
  [[ $vk8s != *=* ]] || die "vault-k8s path contains '=', which env(1) would take for a variable: $vk8s"
  command -v jq >/dev/null || die "jq is required"
  command -v unshare >/dev/null || die "unshare (util-linux) is required"

  # --- the chart's injector Deployment, as the API server holds it
  local deploy="$release-agent-injector" mwc="$release-agent-injector-cfg" dep
  dep=$("$kubectl" -n "$ns" get deployment "$deploy" -o json) \
    || die "cannot read deployment $ns/$deploy"
  local ctr
  ctr=$(jq -c '.spec.template.spec.containers as $c
               | (($c | map(select(.name == "sidecar-injector")) | first) // $c[0])' <<<"$dep")
  [[ $ctr != null ]] || die "deployment $ns/$deploy has no container"
  jq -e '(.envFrom // []) | length == 0' <<<"$ctr" >/dev/null \
    || die "container envFrom is not supported (the chart renders none)"
  # The container's args are passed as the image's ENTRYPOINT ["/vault-k8s"]
  # gets them: the chart's literal "2>&1" included (the flag parser ignores it).
  local -a args
  mapfile -t args < <(jq -r '.args // [] | .[]' <<<"$ctr")
  [[ ${args[0]:-} == agent-inject ]] || die "container args do not start with agent-inject: ${args[*]:-none}"

  local cfg
  cfg=$("$kubectl" get mutatingwebhookconfiguration "$mwc" -o json) \
    || die "cannot read mutatingwebhookconfiguration $mwc"
  jq -e '(.webhooks // []) | length > 0' <<<"$cfg" >/dev/null || die "$mwc has no webhooks"

  # A pod of the Deployment, for fieldRefs (kwok runs it, but nothing in it).
  local sel pod_json pod_name node_name sa
  sel=$(jq -r '.spec.selector.matchLabels // {} | to_entries | map("\(.key)=\(.value)") | join(",")' <<<"$dep")
  pod_json=$("$kubectl" -n "$ns" get pods -l "$sel" -o json | jq -c '[.items[] | select(.metadata.deletionTimestamp == null)] | first // {}')
  pod_name=$(jq -r '.metadata.name // empty' <<<"$pod_json")
  [[ -n $pod_name ]] || pod_name="$deploy-local"
  node_name=$(jq -r '.spec.nodeName // empty' <<<"$pod_json")
  [[ -n $node_name ]] || node_name=$(hostname)
  sa=$(jq -r '.spec.template.spec.serviceAccountName // .spec.template.spec.serviceAccount // "default"' <<<"$dep")

  # --- resolve the container env as the kubelet would for that pod
  local -a envs=()
  local e name val kind ref key optional
  while IFS= read -r e; do
    name=$(jq -r '.name' <<<"$e")
    if jq -e 'has("valueFrom") | not' <<<"$e" >/dev/null; then
      # exact bytes, trailing newlines included (jq -j prints no newline of its own)
      val=$(jq -j '.value // ""' <<<"$e"; printf x); val=${val%x}
    else
      kind=$(jq -r '.valueFrom | keys[0]' <<<"$e")
      optional=$(jq -r '.valueFrom[] | .optional // false' <<<"$e")
      case $kind in
        fieldRef)
          ref=$(jq -r '.valueFrom.fieldRef.fieldPath' <<<"$e")
          case $ref in
            metadata.namespace) val=$ns ;;
            metadata.name) val=$pod_name ;;
            metadata.uid) val=$(jq -r '.metadata.uid // ""' <<<"$pod_json") ;;
            spec.nodeName) val=$node_name ;;
            spec.serviceAccountName) val=$sa ;;
            status.podIP | status.podIPs | status.hostIP | status.hostIPs) val=127.0.0.1 ;;
            metadata.labels\[*\] | metadata.annotations\[*\])
              key=${ref#*\[}; key=${key%\]}; key=${key#\'}; key=${key%\'}
              val=$(jq -r --arg f "${ref%%\[*}" --arg k "$key" \
                'if $f == "metadata.labels" then .spec.template.metadata.labels[$k] else .spec.template.metadata.annotations[$k] end // ""' <<<"$dep") ;;
            *) die "env $name: unsupported fieldRef $ref" ;;
          esac ;;
        secretKeyRef | configMapKeyRef)
          local rname rkey
          rname=$(jq -r ".valueFrom.$kind.name" <<<"$e")
          rkey=$(jq -r ".valueFrom.$kind.key" <<<"$e")
          local rtype=configmap
          [[ $kind == secretKeyRef ]] && rtype=secret
          if ! val=$("$kubectl" -n "$ns" get "$rtype" "$rname" -o json 2>/dev/null | jq -er --arg k "$rkey" '.data[$k]'); then
            [[ $optional == true ]] && continue
            die "env $name: $rtype $ns/$rname key $rkey not found"
          fi
          [[ $rtype == secret ]] && val=$(base64 -d <<<"$val")
          ;;
        *) die "env $name: unsupported valueFrom.$kind" ;;
      esac
    fi
    case $name in
      AGENT_INJECT_LISTEN | AGENT_INJECT_USE_LEADER_ELECTOR)
        continue ;; # overridden below
    esac
    envs+=("$name=$val")
  done < <(jq -c '.env // [] | .[]' <<<"$ctr")

  [[ -f $statedir/egress/routes ]] || die "$statedir/egress/routes not found (stack.sh starts egress.js)"
  # The Services the webhooks name, as `<ClusterIP>:<port>`, and one DNS name to probe TLS with.
  local -a targets=()
  local svc svc_ns svc_port ip probe_host="" probe_port=""
  while IFS=$'\t' read -r svc svc_ns svc_port; do
    ip=$("$kubectl" -n "$svc_ns" get service "$svc" -o jsonpath='{.spec.clusterIP}') \
      || die "cannot read service $svc_ns/$svc named by $mwc"
    [[ $ip =~ ^[0-9.]+$ ]] || die "service $svc_ns/$svc has no ClusterIP ('$ip')"
    targets+=("$ip:$svc_port")
    [[ -n $probe_host ]] || { probe_host="$svc.$svc_ns.svc"; probe_port=$svc_port; }
  done < <(jq -r '.webhooks[] | .clientConfig.service // empty | [.name, .namespace, (.port // 443 | tostring)] | @tsv' <<<"$cfg" | sort -u)
  ((${#targets[@]} > 0)) || die "$mwc has no webhook with clientConfig.service"

  # --- in-cluster credentials for the injector: its own ServiceAccount's token
  local sadir="$wdir/serviceaccount" token
  rm -rf "$sadir"
  mkdir -p "$sadir"
  chmod 700 "$sadir"
  if "$kubectl" -n "$ns" get serviceaccount "$sa" >/dev/null 2>&1; then
    token=$("$kubectl" -n "$ns" create token "$sa" --duration="${WEBHOOK_TOKEN_DURATION:-24h}") \
      || die "kubectl create token $ns/$sa failed"
    log "in-cluster identity: serviceaccount $ns/$sa (token via TokenRequest)"
  else
    token=$("$kubectl" config view --raw --minify -o jsonpath='{.users[0].user.token}')
    [[ -n $token ]] || die "serviceaccount $ns/$sa not found and the kubeconfig user has no bearer token"
    log "serviceaccount $ns/$sa not found; using the kubeconfig user's bearer token"
  fi
  (umask 077; printf '%s' "$token" >"$sadir/token")
  printf '%s' "$ns" >"$sadir/namespace"
  local cadata cafile
  cadata=$("$kubectl" config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  cafile=$("$kubectl" config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')
  if [[ -n $cadata ]]; then
    base64 -d <<<"$cadata" >"$sadir/ca.crt"
  elif [[ -n $cafile && -f $cafile ]]; then
    cp "$cafile" "$sadir/ca.crt"
  elif [[ -f $statedir/ca.crt ]]; then
    cp "$statedir/ca.crt" "$sadir/ca.crt"
  else
    die "no API server CA in the kubeconfig or $statedir/ca.crt"
  fi
  local server hostport khost kport
  server=${APISERVER_URL:-$("$kubectl" config view --minify -o jsonpath='{.clusters[0].cluster.server}')}
  [[ $server == https://* ]] || die "API server URL '$server' is not https:// (in-cluster config needs TLS)"
  hostport=${server#https://}; hostport=${hostport%%/*}
  khost=${hostport%:*}; kport=${hostport##*:}
  [[ $kport != "$hostport" && $kport =~ ^[0-9]+$ ]] || kport=443
  khost=${khost#[}; khost=${khost%]}

  # --- start
  local port
  port=$(free_port)
  envs+=(
    "AGENT_INJECT_LISTEN=127.0.0.1:$port"
    "AGENT_INJECT_USE_LEADER_ELECTOR=false"
  )
  (umask 077; printf '%s\n' "${envs[@]}" >"$wdir/injector.env")
  # What a container of the pod would also have: in-cluster API address, HOSTNAME.
  local -a penv=(
    "KUBERNETES_SERVICE_HOST=$khost" "KUBERNETES_SERVICE_PORT=$kport"
    "HOSTNAME=$pod_name" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  )
  local -a ns_cmd=(unshare --mount --propagation private)
  [[ $(id -u) -eq 0 ]] || ns_cmd=(unshare --user --map-root-user --mount --propagation private)

  mkdir -p "$wdir/mnt"
  # The launcher runs inside the new mount namespace: it makes
  # /var/run/secrets/kubernetes.io/serviceaccount exist there (an overlay on its
  # nearest existing parent, or a tmpfs if overlay is refused), bind-mounts the
  # token/CA read-only, then execs vault-k8s in place (same PID).
  # shellcheck disable=SC2016
  local launcher='
set -eu
src=$1 scratch=$2 target=$3; shift 3
target=$(readlink -m "$target")
parent=$target
while [ ! -d "$parent" ]; do parent=$(dirname "$parent"); done
if [ "$parent" != "$target" ]; then
  mount -t tmpfs -o size=1m,mode=0700 webhook-scratch "$scratch"
  mkdir -p "$scratch/upper" "$scratch/work"
  if ! mount -t overlay -o "lowerdir=$parent,upperdir=$scratch/upper,workdir=$scratch/work" webhook-overlay "$parent" 2>/dev/null; then
    mount -t tmpfs -o size=1m,mode=0755 webhook-run "$parent"
  fi
  mkdir -p "$target"
fi
mount --bind "$src" "$target"
mount -o remount,bind,ro "$target"
exec env -i "$@"
'
  : >"$logfile"
  log "starting vault-k8s $VAULT_K8S_VERSION agent-inject on 127.0.0.1:$port (log: $logfile)"
  nohup "${ns_cmd[@]}" bash -c "$launcher" webhook-launcher \
    "$sadir" "$wdir/mnt" "$SA_MOUNT" \
    "${penv[@]}" "${envs[@]}" "$vk8s" "${args[@]}" \
    </dev/null >>"$logfile" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$pidfile"
  proc_start "$pid" >"$statedir/pids/webhook.start" || true
  # shellcheck disable=SC2064
  trap "cmd_stop $(printf %q "$statedir"); exit 130" INT TERM

  # --- wait for readiness: vault-k8s made its certificate and patched its CA into
  # the webhook configuration; the Service's name verifies against it on 127.0.0.1
  local timeout=${WEBHOOK_READY_TIMEOUT:-90} start=$SECONDS code="" cab
  while :; do
    if ! pid_is_ours "$statedir" >/dev/null; then
      tail -n 30 "$logfile" >&2 || true
      rm -f "$pidfile" "$statedir/pids/webhook.start"
      die "vault-k8s exited during startup (log: $logfile)"
    fi
    cab=$("$kubectl" get mutatingwebhookconfiguration "$mwc" -o jsonpath='{.webhooks[0].clientConfig.caBundle}' 2>/dev/null || true)
    if [[ -n $cab ]] && base64 -d <<<"$cab" >"$wdir/ca.crt" 2>/dev/null; then
      code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$wdir/ca.crt" \
        --connect-to "$probe_host:$probe_port:127.0.0.1:$port" \
        "https://$probe_host:$probe_port/health/ready" 2>/dev/null || true)
      [[ $code == 204 ]] && break
    fi
    if ((SECONDS - start >= timeout)); then
      tail -n 30 "$logfile" >&2 || true
      cmd_stop "$statedir"
      die "vault-k8s not ready after ${timeout} s (caBundle ${cab:+set}${cab:-empty}, last HTTP code '$code'; log: $logfile)"
    fi
    sleep 0.2
  done
  log "vault-k8s ready in $((SECONDS - start)) s (pid $pid); it patched the caBundle of $mwc"

  # --- route the Services' ClusterIPs to it (egress.js reads the file per connection)
  local t
  for t in "${targets[@]}"; do printf '%s 127.0.0.1:%s\n' "$t" "$port"; done >"$statedir/egress/routes.tmp"
  mv "$statedir/egress/routes.tmp" "$statedir/egress/routes"
  log "routed ${targets[*]} -> 127.0.0.1:$port"
  trap - INT TERM
  printf 'webhook: vault-k8s %s serving %s (%s) on 127.0.0.1:%s\n' "$VAULT_K8S_VERSION" "$mwc" "${targets[*]}" "$port"
}

case ${1:-} in
  start) [[ $# -eq 4 ]] || usage; cmd_start "$2" "$3" "$4" ;;
  stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
  *) usage ;;
esac
