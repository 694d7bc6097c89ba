/**
 * Reads what the rest of the graph needs out of an AKS kubeconfig: the API server URL and the
 * cluster CA as PEM. Pure, so it is tested directly.
 */
import { parse } from "yaml";

interface KubeconfigFacts {
    /** `https://<fqdn>:443` as AKS writes it. */
    server: string;
    /** The cluster CA certificate(s), PEM. */
    caCertPem: string;
}

interface KubeconfigDoc {
    "current-context"?: string;
    contexts?: Array<{ name?: string; context?: { cluster?: string } }>;
    clusters?: Array<{ name?: string; cluster?: { server?: string; "certificate-authority-data"?: string } }>;
}

export function decodeBase64(value: string): string {
    return Buffer.from(value, "base64").toString("utf8");
}

/** Picks the current context's cluster (or the only one) and returns its server and CA. */
export function parseKubeconfig(text: string): KubeconfigFacts {
    let doc: KubeconfigDoc;
    try {
        doc = parse(text) as KubeconfigDoc;
    } catch (err) {
        // Never echo the document: it holds credentials.
        throw new Error(`kubeconfig is not valid YAML (${(err as Error).name})`);
    }
    const clusters = doc?.clusters ?? [];
    if (clusters.length === 0) throw new Error("kubeconfig has no clusters");
    const currentCluster = doc.contexts?.find((c) => c.name === doc["current-context"])?.context?.cluster;
    const entry = clusters.find((c) => c.name === currentCluster) ?? clusters[0];
    const server = entry.cluster?.server;
    if (!server) throw new Error(`kubeconfig cluster "${entry.name ?? "?"}" has no server`);
    const caData = entry.cluster?.["certificate-authority-data"];
    if (!caData) throw new Error(`kubeconfig cluster "${entry.name ?? "?"}" has no certificate-authority-data`);
    const caCertPem = decodeBase64(caData);
    if (!caCertPem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new Error(`kubeconfig cluster "${entry.name ?? "?"}" certificate-authority-data is not a PEM certificate`);
    }
    return { server, caCertPem };
}
