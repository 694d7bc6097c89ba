/**
 * The smallest Pulumi mock that lets the whole program evaluate: it echoes inputs as state and
 * computes only the few values the program reads back (cluster issuer, admin kubeconfig, the
 * reviewer token Secret's data, a generated password). It records nothing but counts by type, so
 * it costs the benchmark as little as possible. Tests use test/support/cloud.ts, which plays the clouds.
 */
import * as pulumi from "@pulumi/pulumi";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const CA = "-----BEGIN CERTIFICATE-----\nYmVuY2g=\n-----END CERTIFICATE-----\n";
const KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: bench\n  cluster:\n    server: https://bench.hcp.example.azmk8s.io:443\n    certificate-authority-data: ${b64(CA)}`,
    "contexts:",
    "- name: bench\n  context:\n    cluster: bench\n    user: bench",
    "current-context: bench",
    "users:",
    "- name: bench\n  user:\n    token: bench",
    "",
].join("\n");

export class BenchMock implements pulumi.runtime.Mocks {
    /** Resources registered, by type token (components included). */
    public readonly counts = new Map<string, number>();
    /** Whether each type is a custom resource (false: a component). */
    public readonly custom = new Map<string, boolean>();
    /** Pod template annotations of each Deployment, by logical name. */
    public readonly podAnnotations = new Map<string, Record<string, string>>();

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        this.counts.set(args.type, (this.counts.get(args.type) ?? 0) + 1);
        this.custom.set(args.type, args.custom ?? true);
        const state: Record<string, unknown> = { ...args.inputs };
        switch (args.type) {
            case "azure-native:containerservice:ManagedCluster":
                state.oidcIssuerProfile = { enabled: true, issuerURL: "https://oidc.example/bench/" };
                break;
            case "kubernetes:core/v1:Secret":
                state.data = { token: b64("header.payload.signature") };
                break;
            case "kubernetes:apps/v1:Deployment": {
                const spec = args.inputs.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined;
                this.podAnnotations.set(args.name, spec?.template?.metadata?.annotations ?? {});
                break;
            }
            case "random:index/randomPassword:RandomPassword":
                state.result = "x".repeat(Number(args.inputs.length ?? 16));
                break;
            default:
                break;
        }
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        if (args.token === "azure-native:containerservice:listManagedClusterAdminCredentials") {
            return { kubeconfigs: [{ name: "clusterAdmin", value: b64(KUBECONFIG) }] };
        }
        throw new Error(`bench mock: unknown invoke ${args.token}`);
    }
}
