// Package codegen is a stub of pulumi-yaml's program generator: it defines only
// the names pulumi-terraform-bridge imports, so that the bridge compiles.
package codegen

import (
	"errors"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
)

// GenerateProgram always fails: YAML program generation is not part of this build.
func GenerateProgram(program *pcl.Program) (map[string][]byte, hcl.Diagnostics, error) {
	return nil, nil, errors.New("pulumi-yaml codegen is stubbed out in this build")
}
