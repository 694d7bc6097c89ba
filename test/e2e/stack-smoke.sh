#!/usr/bin/env bash
# Smoke check of a running test/e2e/stack.sh stack:
#   test/e2e/stack-smoke.sh <statedir>
# Checks: 3 kwok Nodes Ready; a 1-replica busybox Deployment becomes Available;
# a ServiceAccount token Secret is filled by the controller manager; a
# TokenRequest works and carries the issuer and audience; TokenReview accepts
# it; the discovery document and JWKS are served without credentials; Vault
# (bao dev) answers sys/health, and its JWT auth logs in with a service-account
# token through the cluster's JWKS. Leaves its objects in namespace smoke.
# shellcheck disable=SC2015  # ok() always succeeds
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 <statedir>" >&2; exit 2; }
# shellcheck disable=SC1091
source "$1/env"
K() { "$KUBECTL" --request-timeout=20s "$@"; }
pass=0 failed=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
jwt_payload() { cut -d. -f2 | tr '_-' '/+' | { b=$(cat); while ((${#b} % 4)); do b+='='; done; base64 -d <<<"$b"; }; }

ready=$(K get nodes -l type=kwok -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.labels.topology\.kubernetes\.io/zone}={.status.conditions[?(@.type=="Ready")].status} {end}')
[[ $(grep -o '=True' <<<"$ready" | wc -l) -eq 3 ]] && ok "nodes Ready: $ready" || bad "nodes: $ready"

K create namespace smoke --dry-run=client -o yaml | K apply -f - >/dev/null
K -n smoke create deployment bb --image=busybox:1.36 --replicas=1 --dry-run=client -o yaml -- sleep 3600 | K apply -f - >/dev/null
t0=$(date +%s.%N)
if K -n smoke wait --for=condition=Available deployment/bb --timeout=120s >/dev/null; then
  ok "Deployment smoke/bb Available in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s on $(K -n smoke get pods -l app=bb -o jsonpath='{.items[0].spec.nodeName} ({.items[0].status.phase})')"
else
  bad "Deployment smoke/bb not Available"
fi

K -n smoke create serviceaccount demo --dry-run=client -o yaml | K apply -f - >/dev/null
K apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: demo-token
  namespace: smoke
  annotations:
    kubernetes.io/service-account.name: demo
type: kubernetes.io/service-account-token
EOF
secret_tok=
for _ in $(seq 100); do
  secret_tok=$(K -n smoke get secret demo-token -o jsonpath='{.data.token}')
  [[ -n $secret_tok ]] && break
  sleep 0.2
done
if [[ -n $secret_tok ]]; then
  ok "service-account-token Secret filled (keys: $(K -n smoke get secret demo-token -o jsonpath='{.data}' | jq -r 'keys|join(",")'))"
else
  bad "service-account-token Secret not filled"
fi

tok=$(K -n smoke create token demo --duration=10m)
claims=$(jwt_payload <<<"$tok")
if [[ $(jq -r .iss <<<"$claims") == "$K8S_ISSUER" ]] && jq -e --arg i "$K8S_ISSUER" '.aud | index($i)' <<<"$claims" >/dev/null; then
  ok "TokenRequest: iss=$(jq -r .iss <<<"$claims") aud=$(jq -c .aud <<<"$claims")"
else
  bad "TokenRequest claims: $claims"
fi

review=$(K create -o json -f - <<EOF
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec:
  token: $tok
EOF
)
[[ $(jq -r .status.authenticated <<<"$review") == true ]] &&
  ok "TokenReview: $(jq -r .status.user.username <<<"$review")" || bad "TokenReview: $review"

disc=$(curl -sk "https://127.0.0.1:$APISERVER_PORT/.well-known/openid-configuration")
[[ $(jq -r .issuer <<<"$disc") == "$K8S_ISSUER" ]] && ok "anonymous discovery: $disc" || bad "discovery: $disc"
jwks=$(curl -s --cacert "$K8S_CA_FILE" "$K8S_JWKS_URL")
[[ $(jq '.keys|length' <<<"$jwks") -ge 1 ]] && ok "anonymous JWKS: $(jq -c '[.keys[]|{kty,alg,kid}]' <<<"$jwks")" || bad "jwks: $jwks"

health=$(curl -s "$VAULT_ADDR/v1/sys/health")
[[ $(jq -r .sealed <<<"$health") == false ]] && ok "bao sys/health: version $(jq -r .version <<<"$health"), sealed=false" || bad "bao health: $health"

"$BAO" auth disable smoke-jwt >/dev/null 2>&1 || true
"$BAO" auth enable -path=smoke-jwt jwt >/dev/null
if [[ $K8S_ISSUER == "$APISERVER_URL"/* ]]; then
  # Issuer served by the apiserver itself: Vault discovers it, as on AKS.
  "$BAO" write auth/smoke-jwt/config oidc_discovery_url="$K8S_ISSUER" bound_issuer="$K8S_ISSUER" >/dev/null
  how="oidc_discovery_url"
else
  "$BAO" write auth/smoke-jwt/config jwks_url="$K8S_JWKS_URL" jwks_ca_pem=@"$K8S_CA_FILE" bound_issuer="$K8S_ISSUER" >/dev/null
  how="jwks_url"
fi
"$BAO" write auth/smoke-jwt/role/demo role_type=jwt bound_audiences="$K8S_ISSUER" user_claim=sub \
  bound_subject=system:serviceaccount:smoke:demo token_policies=default ttl=5m >/dev/null
if login=$("$BAO" write -format=json auth/smoke-jwt/login role=demo jwt="$tok" 2>&1); then
  ok "bao JWT login ($how) with a service-account token: policies $(jq -c .auth.policies <<<"$login")"
else
  bad "bao JWT login ($how): $login"
fi
"$BAO" auth disable smoke-jwt >/dev/null

echo "$pass passed, $failed failed"
((failed == 0))
