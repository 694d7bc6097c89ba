/**
 * Recorded Kubernetes objects and agent logs for the doctor's tests (test/fixtures/doctor), and a
 * `ClusterReader` that serves them the way the API server would.
 */
import { readFileSync } from "fs";
import * as path from "path";
import type { V1Deployment, V1MutatingWebhookConfiguration, V1Pod, V1Secret, V1TokenReview } from "@kubernetes/client-node";
import { ClusterReader } from "../../src/doctor/gather";
import { Expectations } from "../../src/doctor/types";

export const FIXTURES = path.resolve(__dirname, "..", "fixtures", "doctor");

export function fixture<T>(name: string): T {
    return JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as T;
}

export function logFixture(name: string): string[] {
    const lines = readFileSync(path.join(FIXTURES, "logs", `${name}.txt`), "utf8").split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines;
}

export const deployments = (): V1Deployment[] => fixture<{ items: V1Deployment[] }>("deployments.json").items;
export const webhooks = (): V1MutatingWebhookConfiguration[] => fixture<{ items: V1MutatingWebhookConfiguration[] }>("webhooks.json").items;
export const pod = (name: string): V1Pod => fixture<V1Pod>(`pod-${name}.json`);
export const reviewerTokenSecret = (): V1Secret => fixture<V1Secret>("reviewer-token-secret.json");
/** `authenticated` or `refused`: the API server's answer to a TokenReview of the reviewer Secret's token. */
export const tokenReview = (name: "authenticated" | "refused"): V1TokenReview => fixture<V1TokenReview>(`tokenreview-${name}.json`);

/** The stack outputs `program.ts` exports for Pulumi.dev.yaml's lab, as `stack.outputs()` returns them. */
export function labOutputs(): Record<string, { value: unknown; secret: boolean }> {
    return {
        kubeconfig: {
            value: "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: kubeconfig-secret-token-value\n",
            secret: true,
        },
        clusterName: { value: "aks-vault-dev", secret: false },
        apiServerUrl: { value: "https://aks-vault-dev-4f1c2e.hcp.francecentral.azmk8s.io:443", secret: false },
        oidcIssuerUrl: { value: "https://francecentral.oic.prod-aks.azure.com/0000-tenant/1111-cluster/", secret: false },
        injectorNamespace: { value: "vault", secret: false },
        injectorChartVersion: { value: "0.34.1", secret: false },
        vaultAuthPath: { value: "aks", secret: false },
        kvMountPath: { value: "secret", secret: false },
        workloads: {
            value: {
                busybox: {
                    namespace: "busybox",
                    serviceAccount: "busybox",
                    role: "busybox",
                    policy: "busybox",
                    files: ["/vault/secrets/devops_token"],
                },
            },
            secret: false,
        },
    };
}

export function labExpectations(): Expectations {
    return {
        injectorNamespace: "vault",
        authPath: "aks",
        apiServerUrl: "https://aks-vault-dev-4f1c2e.hcp.francecentral.azmk8s.io:443",
        oidcIssuerUrl: "https://francecentral.oic.prod-aks.azure.com/0000-tenant/1111-cluster/",
        workloads: [
            { name: "busybox", namespace: "busybox", serviceAccount: "busybox", role: "busybox", files: ["/vault/secrets/devops_token"] },
        ],
    };
}

export interface RecordedCluster {
    deployments?: V1Deployment[];
    webhooks?: V1MutatingWebhookConfiguration[];
    pods?: V1Pod[];
    /** `<pod>/<container>` -> log lines. */
    logs?: Record<string, string[]>;
    secrets?: V1Secret[];
    /** The API server's answer to a TokenReview, by the token under review. */
    tokenReviews?: Record<string, V1TokenReview>;
    /** Method name -> error to throw. */
    errors?: Partial<Record<keyof ClusterReader, Error>>;
}

/** Serves recorded objects, filtering by namespace and equality label selectors like the API server; records every call. */
export class RecordedReader implements ClusterReader {
    public readonly calls: string[] = [];
    constructor(private readonly data: RecordedCluster) {}

    private fail(method: keyof ClusterReader): void {
        const e = this.data.errors?.[method];
        if (e !== undefined) throw e;
    }

    private static selects(labels: Record<string, string> | undefined, selector: string): boolean {
        return selector.split(",").every((term) => {
            const [k, v] = term.split("=");
            return labels?.[k] === v;
        });
    }

    async listDeployments(namespace: string, labelSelector: string): Promise<V1Deployment[]> {
        this.calls.push(`listDeployments ${namespace} ${labelSelector}`);
        this.fail("listDeployments");
        return (this.data.deployments ?? []).filter(
            (d) => d.metadata?.namespace === namespace && RecordedReader.selects(d.metadata?.labels, labelSelector),
        );
    }

    async listMutatingWebhookConfigurations(labelSelector: string): Promise<V1MutatingWebhookConfiguration[]> {
        this.calls.push(`listMutatingWebhookConfigurations ${labelSelector}`);
        this.fail("listMutatingWebhookConfigurations");
        return (this.data.webhooks ?? []).filter((w) => RecordedReader.selects(w.metadata?.labels, labelSelector));
    }

    async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
        this.calls.push(`listPods ${namespace} ${labelSelector}`);
        this.fail("listPods");
        return (this.data.pods ?? []).filter(
            (p) => p.metadata?.namespace === namespace && RecordedReader.selects(p.metadata?.labels, labelSelector),
        );
    }

    async readLog(namespace: string, podName: string, container: string, tailLines: number): Promise<string> {
        this.calls.push(`readLog ${namespace} ${podName} ${container} ${tailLines}`);
        this.fail("readLog");
        const lines = this.data.logs?.[`${podName}/${container}`] ?? [];
        return `${lines.slice(-tailLines).join("\n")}\n`;
    }

    async readSecret(namespace: string, name: string): Promise<V1Secret> {
        this.calls.push(`readSecret ${namespace} ${name}`);
        this.fail("readSecret");
        const found = (this.data.secrets ?? []).find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
        // client-node's ApiException for the API server's 404 Status.
        if (found === undefined) throw Object.assign(new Error(`HTTP-Code: 404\nMessage: secrets "${name}" not found`), { code: 404 });
        return found;
    }

    /** Records the call, never the token. */
    async createTokenReview(token: string): Promise<V1TokenReview> {
        this.calls.push("createTokenReview");
        this.fail("createTokenReview");
        const review = this.data.tokenReviews?.[token];
        if (review === undefined) throw new Error("TokenReview of a token this recording has no answer for");
        return review;
    }
}
