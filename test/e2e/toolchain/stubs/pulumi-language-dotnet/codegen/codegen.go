// Package codegen is a stub of pulumi-language-dotnet's code generator: it
// defines only the names pulumi-terraform-bridge imports, so that the bridge
// compiles. The JSON tags match the real types, so a schema written through
// them keeps its "csharp" language sections.
package codegen

import (
	"errors"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
)

// CSharpPropertyInfo is the C#-specific info of a property.
type CSharpPropertyInfo struct {
	Name string `json:"name,omitempty"`
}

// CSharpResourceInfo is the C#-specific info of a resource.
type CSharpResourceInfo struct {
	Name string `json:"name,omitempty"`
}

// CSharpPackageInfo is the C#-specific info of a package.
type CSharpPackageInfo struct {
	PackageReferences            map[string]string `json:"packageReferences,omitempty"`
	Namespaces                   map[string]string `json:"namespaces,omitempty"`
	Compatibility                string            `json:"compatibility,omitempty"`
	DictionaryConstructors       bool              `json:"dictionaryConstructors,omitempty"`
	ProjectReferences            []string          `json:"projectReferences,omitempty"`
	LiftSingleValueMethodReturns bool              `json:"liftSingleValueMethodReturns,omitempty"`
	RootNamespace                string            `json:"rootNamespace,omitempty"`
	RespectSchemaVersion         bool              `json:"respectSchemaVersion,omitempty"`
}

// GenerateProgram always fails: C# program generation is not part of this build.
func GenerateProgram(program *pcl.Program) (map[string][]byte, hcl.Diagnostics, error) {
	return nil, nil, errors.New("pulumi-language-dotnet codegen is stubbed out in this build")
}
