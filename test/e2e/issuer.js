#!/usr/bin/env node
/**
 * The local stand-in for AKS's OIDC issuer endpoint: AKS publishes a cluster's discovery document
 * and signing keys on a host of its own (`https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/`),
 * not on the API server. This serves the two documents the local API server produced, under the
 * issuer's path, over TLS on 127.0.0.1, so Vault's JWT auth discovers the issuer as it would on
 * AKS (hashicorp/cap: the document's `issuer` must equal the discovery URL exactly).
 *
 *   node issuer.js <issuer-url> <cert.pem> <key.pem> <openid-configuration.json> <jwks.json>
 *
 * Only the host's port is listened on, on 127.0.0.1. Stopped by its PID (test/e2e/stack.sh).
 */
"use strict";
const { readFileSync } = require("fs");
const https = require("https");

const [issuer, certFile, keyFile, discoveryFile, jwksFile] = process.argv.slice(2);
if (jwksFile === undefined) {
    console.error("usage: issuer.js <issuer-url> <cert.pem> <key.pem> <openid-configuration.json> <jwks.json>");
    process.exit(2);
}
const url = new URL(issuer);
if (url.hostname !== "127.0.0.1") {
    console.error(`issuer.js: the issuer must be on 127.0.0.1, not ${url.hostname}`);
    process.exit(2);
}
const prefix = url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`;
const documents = new Map([
    [`${prefix}.well-known/openid-configuration`, readFileSync(discoveryFile)],
    [`${prefix}openid/v1/jwks`, readFileSync(jwksFile)],
]);

const server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
    const body = req.method === "GET" ? documents.get(new URL(req.url ?? "/", issuer).pathname) : undefined;
    if (body === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(body);
});
server.listen(Number(url.port), "127.0.0.1", () => console.log(`issuer: serving ${issuer}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
