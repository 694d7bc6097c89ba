# Vault policy for the token that runs this program, rendered for the dev stack (Pulumi.dev.yaml):
# kubernetesAuth.path "aks", kv.path "secret", roles [busybox],
# workload policies [aks-vault.dev.busybox], seeded paths [devops].
#
#   vault policy write aks-vault-operator <this file>
#   vault token create -policy=aks-vault-operator -ttl=2h
#
# Each rule comes from an API call of the Vault provider listed in deploy/vault-provider-calls.json.
# Another stack has other paths and names: see docs/vault-operator.md.

# Provider setup: look up the token, then create the child token the provider works with
# (skip_child_token is off).
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/create" {
  capabilities = ["update"]
}

# The auth method at auth/aks (Kubernetes or JWT). Enabling and disabling it need sudo:
# sys/auth/* is a root-protected path. Reads go to sys/mounts/auth/aks and its tune.
path "sys/auth/aks" {
  capabilities = ["update", "delete", "sudo"]
}
path "sys/mounts/auth/aks" {
  capabilities = ["read"]
}
path "sys/mounts/auth/aks/tune" {
  capabilities = ["read", "update"]
}
path "auth/aks/config" {
  capabilities = ["read", "update"]
}
path "auth/aks/role/busybox" {
  capabilities = ["create", "read", "update", "delete"]
}

# The KV v2 mount at secret/ (delete only matters once kv.protect is off).
path "sys/mounts/secret" {
  capabilities = ["read", "update", "delete"]
}
path "sys/mounts/secret/tune" {
  capabilities = ["update"]
}

# Seeded secrets: KV v2 writes are create or update (existence check); every read of the data
# also reads the metadata.
path "secret/data/devops" {
  capabilities = ["create", "read", "update", "delete"]
}
path "secret/metadata/devops" {
  capabilities = ["read"]
}

# One policy per workload, named after it (with the stack's policy prefix).
path "sys/policies/acl/aks-vault.dev.busybox" {
  capabilities = ["read", "update", "delete"]
}
