//go:build vaultacl

package vault

// The packages the overlaid ACL files import, named here so `go mod tidy` keeps them (and their
// checksums) in go.mod and go.sum: the overlay is invisible to tidy.
import (
	_ "github.com/armon/go-radix"
	_ "github.com/hashicorp/go-multierror"
	_ "github.com/hashicorp/go-secure-stdlib/parseutil"
	_ "github.com/hashicorp/go-secure-stdlib/strutil"
	_ "github.com/hashicorp/hcl"
	_ "github.com/hashicorp/hcl/hcl/ast"
	_ "github.com/hashicorp/vault/helper/identity"
	_ "github.com/hashicorp/vault/helper/namespace"
	_ "github.com/hashicorp/vault/helper/random"
	_ "github.com/hashicorp/vault/sdk/helper/hclutil"
	_ "github.com/hashicorp/vault/sdk/helper/identitytpl"
	_ "github.com/hashicorp/vault/sdk/logical"
	_ "github.com/mitchellh/copystructure"
)
