// Stand-in for github.com/pulumi/pulumi-yaml, whose pseudo-version required by
// pulumi-terraform-bridge v3.135.0 the module proxy refuses. Only the bridge's
// tfgen/convert code imports it: the provider binaries link that code but do
// not run it when serving.
module github.com/pulumi/pulumi-yaml

go 1.25

require (
	github.com/hashicorp/hcl/v2 v2.24.0
	github.com/pulumi/pulumi/pkg/v3 v3.253.0
)
