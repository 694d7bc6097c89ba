//go:build vaultacl

// Package vault is Vault's ACL engine built from Vault's own source: acl.go, acl_util.go,
// policy.go and policy_util.go of github.com/hashicorp/vault/vault, at the version go.mod pins,
// are laid into this directory by `go build -overlay` (see ../acl_test.go), never copied into
// the repository. The `vault` package as a whole does not build as a library at v1.21.4 (its
// go.mod requires vault/sdk v0.21.0, whose framework.ActivationFunc no longer matches
// identity_store.go: it is built in-tree against ./sdk), and costs ~8 CPU-minutes and 3.8 GB of
// modules to try; these four files are the policy parser and the ACL themselves.
//
// This file is the only stand-in: the `Core` type that two of acl.go's methods hang off (policy
// observation and the enterprise checks). The ACL decisions (ParseACLPolicy, NewACL,
// AllowOperation, Capabilities) never touch it.
package vault

import (
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/vault/observations"
)

// Core stands in for vault.Core (core.go), which the ACL files only name as a method receiver.
type Core struct {
	logger hclog.Logger
}

// Observations is core.go's accessor; nothing the oracle calls reaches it.
func (c *Core) Observations() *observations.ObservationSystem { return nil }
