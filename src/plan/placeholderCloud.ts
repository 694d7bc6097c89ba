/**
 * The offline plan's "cloud": a Pulumi mock that answers every value Azure, Kubernetes or Vault
 * would compute with a readable placeholder naming where it comes from, e.g.
 * `⟨ManagedCluster aks-vault-dev: fqdn⟩`. The program runs unchanged, so the placeholders travel
 * through the real wiring: the Vault auth config's host reads `https://⟨ManagedCluster
 * aks-vault-dev: fqdn⟩:443`. Secrets the cloud returns (kubeconfig, token Secret data, random
 * passwords) are placeholders too, and stay wrapped as secrets.
 *
 * Production code: `plan` runs it. (test/support/cloud.ts is the test suite's cloud, with real-looking values.)
 */
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { stringify } from "yaml";

interface Recorded {
    type: string;
    name: string;
    /** Inputs as the program sent them; secrets wrapped (`isSecretWire`). */
    inputs: Record<string, unknown>;
    /** Provider reference `urn::id`, if any. */
    provider?: string;
}

/** Where a placeholder comes from. */
export interface Source {
    type: string;
    name: string;
    field: string;
}

export const PLACEHOLDER = /⟨([^⟩]+)⟩/g;

export function isSecretWire(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

function secretWire(value: unknown): Record<string, unknown> {
    return { [specialSigKey]: specialSecretSig, value };
}

function unwrapOnce(v: unknown): unknown {
    return isSecretWire(v) ? v.value : v;
}

const shortType = (type: string) => type.split(":").pop()?.split("/").pop() ?? type;
const b64 = (s: string) => Buffer.from(s).toString("base64");

export class PlaceholderCloud implements pulumi.runtime.Mocks {
    readonly resources: Recorded[] = [];
    /** Every placeholder handed out, by its text (with the brackets). */
    readonly sources = new Map<string, Source>();
    readonly unexpected: string[] = [];

    /** A value the cloud computes, as a labelled placeholder. */
    placeholder(type: string, name: string, field: string): string {
        const text = `⟨${shortType(type)} ${name}: ${field}⟩`;
        this.sources.set(text, { type, name, field });
        return text;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        // A read of a live object (`Resource.get`, the reviewer's token Secret): what the cluster
        // would return, not a resource the plan creates.
        if (args.id !== undefined && args.id !== "" && args.type === "kubernetes:core/v1:Secret") {
            this.resources.push({ type: args.type, name: args.name, inputs: {}, provider: args.provider });
            const field = (f: string) => this.placeholder(args.type, args.id ?? "", f);
            const [namespace] = args.id.split("/");
            return {
                id: args.id,
                state: {
                    metadata: { name: args.id.split("/")[1], namespace, uid: field("metadata.uid") },
                    data: secretWire({
                        token: b64(field("data.token (service account JWT)")),
                        namespace: b64(namespace),
                        "ca.crt": b64(field("data.ca.crt")),
                    }),
                },
            };
        }
        const inputs = (args.inputs ?? {}) as Record<string, unknown>;
        this.resources.push({ type: args.type, name: args.name, inputs, provider: args.provider });
        const state: Record<string, unknown> = { ...inputs };
        const ph = (field: string) => this.placeholder(args.type, args.name, field);
        switch (args.type) {
            case "azure-native:resources:ResourceGroup":
                state.name = unwrapOnce(inputs.resourceGroupName) ?? args.name;
                break;
            case "azure-native:containerservice:ManagedCluster": {
                const name = String(unwrapOnce(inputs.resourceName) ?? args.name);
                const cluster = (field: string) => this.placeholder(args.type, name, field);
                const oidc = unwrapOnce(inputs.oidcIssuerProfile) as { enabled?: boolean } | undefined;
                state.name = name;
                state.fqdn = cluster("fqdn");
                state.oidcIssuerProfile = oidc?.enabled ? { enabled: true, issuerURL: cluster("OIDC issuer URL") } : { enabled: false };
                state.identityProfile = {
                    kubeletidentity: {
                        objectId: cluster("kubelet identity objectId"),
                        clientId: cluster("kubelet identity clientId"),
                    },
                };
                state.provisioningState = "Succeeded";
                break;
            }
            case "kubernetes:core/v1:Secret": {
                const meta = (unwrapOnce(inputs.metadata) ?? {}) as { name?: string; namespace?: string };
                if (unwrapOnce(inputs.type) === "kubernetes.io/service-account-token") {
                    const where = `${meta.namespace ?? "?"}/${meta.name ?? args.name}`;
                    const field = (f: string) => this.placeholder(args.type, where, f);
                    state.data = secretWire({
                        token: b64(field("data.token (service account JWT)")),
                        namespace: b64(String(meta.namespace)),
                        "ca.crt": b64(field("data.ca.crt")),
                    });
                }
                break;
            }
            case "vault:index/authBackend:AuthBackend":
            case "vault:jwt/authBackend:AuthBackend":
                state.accessor = ph("accessor");
                break;
            case "random:index/randomPassword:RandomPassword":
                state.result = secretWire(ph("result"));
                break;
            case "kubernetes:helm.sh/v3:Release":
                state.status = { name: unwrapOnce(inputs.name), namespace: unwrapOnce(inputs.namespace), status: ph("status") };
                break;
            default:
                break;
        }
        return { id: ph("id"), state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const inputs = args.inputs as Record<string, unknown>;
        switch (args.token) {
            case "azure-native:containerservice:listManagedClusterAdminCredentials": {
                const name = String(unwrapOnce(inputs.resourceName));
                const type = "azure-native:containerservice:ManagedCluster";
                const ca = `-----BEGIN CERTIFICATE-----\n${this.placeholder(type, name, "cluster CA certificate")}\n` +
                    "-----END CERTIFICATE-----\n";
                const kubeconfig = stringify({
                    apiVersion: "v1",
                    clusters: [{
                        cluster: { "certificate-authority-data": b64(ca), server: `https://${this.placeholder(type, name, "fqdn")}:443` },
                        name,
                    }],
                    contexts: [{ context: { cluster: name, user: "clusterAdmin" }, name }],
                    "current-context": name,
                    kind: "Config",
                    users: [{ name: "clusterAdmin", user: { token: this.placeholder(type, name, "admin credentials") } }],
                });
                return { kubeconfigs: [{ name: "clusterAdmin", value: b64(kubeconfig) }] };
            }
            case "azure-native:containerservice:getManagedCluster": {
                // Adopting: the plan assumes the cluster exists with its OIDC issuer on (the real run checks).
                const name = String(unwrapOnce(inputs.resourceName));
                const type = "azure-native:containerservice:ManagedCluster";
                return {
                    name,
                    location: this.placeholder(type, name, "location"),
                    fqdn: this.placeholder(type, name, "fqdn"),
                    enableRBAC: true,
                    oidcIssuerProfile: { enabled: true, issuerURL: this.placeholder(type, name, "OIDC issuer URL") },
                };
            }
            default:
                this.unexpected.push(args.token);
                throw new Error(`the offline plan does not know the invoke ${args.token}`);
        }
    }
}
