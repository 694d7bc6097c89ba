# Vault policy for a token that only runs `aks-vault preflight` (docs/preflight.md), rendered for
# the dev stack (Pulumi.dev.yaml): kubernetesAuth.path "aks", kv.path "secret", roles [busybox].
# Every rule is a read the operator's policy (vault-operator-policy.hcl) already grants, so the
# operator's token serves too.
#
#   vault policy write aks-vault-preflight <this file>
#   vault token create -policy=aks-vault-preflight -ttl=15m

# Whether the auth mount exists and which method it is.
path "sys/mounts/auth/aks" {
  capabilities = ["read"]
}
# Whether the KV mount exists and its version (options.version).
path "sys/mounts/secret" {
  capabilities = ["read"]
}
# Each role, compared with the plan.
path "auth/aks/role/busybox" {
  capabilities = ["read"]
}
