/** The kubeconfig helpers: the server and CA of the current context's cluster. */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { decodeBase64, parseKubeconfig } from "../../components/kubeconfig";
import { clusterFacts } from "../support/cloud";

describe("kubeconfig facts", () => {
    const facts = clusterFacts("c1", "rg1", "westeurope");

    it("reads the server and the PEM CA of the current context's cluster", () => {
        const k = parseKubeconfig(facts.kubeconfig);
        assert.equal(k.server, `https://${facts.fqdn}:443`);
        assert.equal(k.caCertPem, facts.caCertPem);
    });

    it("picks the current context's cluster when there are several", () => {
        const other = clusterFacts("c2", "rg2", "northeurope");
        const doc = {
            clusters: [
                {
                    name: "c2",
                    cluster: {
                        server: `https://${other.fqdn}:443`,
                        "certificate-authority-data": Buffer.from(other.caCertPem).toString("base64"),
                    },
                },
                {
                    name: "c1",
                    cluster: {
                        server: `https://${facts.fqdn}:443`,
                        "certificate-authority-data": Buffer.from(facts.caCertPem).toString("base64"),
                    },
                },
            ],
            contexts: [{ name: "ctx", context: { cluster: "c1" } }],
            "current-context": "ctx",
        };
        assert.equal(parseKubeconfig(stringify(doc)).server, `https://${facts.fqdn}:443`);
    });

    it("fails with a message that never echoes the document", () => {
        const secretish = "clusters: [ {name: x, cluster: {server: https://h, certificate-authority-data: c2VjcmV0}} ]";
        assert.throws(
            () => parseKubeconfig(secretish),
            (e: Error) => /not a PEM certificate/.test(e.message) && !e.message.includes("c2VjcmV0"),
        );
        assert.throws(() => parseKubeconfig("clusters: []"), /no clusters/);
        assert.throws(
            () => parseKubeconfig("{ token: abc: def"),
            (e: Error) => /not valid YAML/.test(e.message) && !e.message.includes("abc"),
        );
    });

    it("decodes base64", () => assert.equal(decodeBase64(Buffer.from("héllo").toString("base64")), "héllo"));
});
