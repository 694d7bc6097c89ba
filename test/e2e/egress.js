#!/usr/bin/env node
/**
 * The local stand-in for the cluster network between the API server and a webhook Service.
 *
 * On AKS the API server calls the Vault Agent injector's webhook through the chart's Service
 * (`clientConfig.service`): it dials the Service's ClusterIP, verifies the injector's certificate
 * for `<service>.<namespace>.svc` against the caBundle the injector patched in, and posts
 * AdmissionReviews. kwok pods run nothing and no ClusterIP routes anywhere here, so the API server
 * is started with an egress selector (stack.sh: `--egress-selector-config-file`) that sends its
 * `cluster` traffic through this HTTP CONNECT proxy on a Unix socket (the API server's TCP
 * transport always dials TLS: k8s.io/apiserver pkg/server/egressselector `getTLSConfig`). Each
 * CONNECT target (`<ClusterIP>:<port>`) is looked up in the routes file that webhook.sh writes
 * when it serves a Service (`<ClusterIP>:<port> 127.0.0.1:<port>` per line, read per connection)
 * and spliced to that 127.0.0.1 port; anything else gets 502. The TLS session is end to end: the
 * proxy sees only ciphertext. With that, the chart's MutatingWebhookConfiguration stays exactly
 * as Helm rendered it (plus the caBundle the injector itself patches), so Helm upgrades patch it
 * as they would on AKS.
 *
 *   node egress.js <socket> <routes-file>
 *
 * Listens on the Unix socket only (no TCP port); connects to 127.0.0.1 only. Stopped by its PID
 * (stack.sh).
 */
"use strict";
const net = require("net");
const { readFileSync, rmSync } = require("fs");

const [socketPath, routesFile] = process.argv.slice(2);
if (routesFile === undefined) {
    console.error("usage: egress.js <socket> <routes-file>");
    process.exit(2);
}

/** `<ClusterIP>:<port>` -> 127.0.0.1 port, as webhook.sh last wrote them. */
function routes() {
    let text = "";
    try {
        text = readFileSync(routesFile, "utf8");
    } catch {
        return new Map();
    }
    const out = new Map();
    for (const line of text.split("\n")) {
        const m = /^(\S+:\d+) 127\.0\.0\.1:(\d+)$/.exec(line.trim());
        if (m !== null) out.set(m[1], Number(m[2]));
    }
    return out;
}

const MAX_HEAD = 8192;

const server = net.createServer((client) => {
    let head = Buffer.alloc(0);
    client.on("error", () => client.destroy());
    const onData = (chunk) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
            if (head.length > MAX_HEAD) client.destroy();
            return;
        }
        client.removeListener("data", onData);
        client.pause();
        const request = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
        const rest = head.subarray(end + 4);
        const m = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(request);
        const port = m === null ? undefined : routes().get(m[1]);
        if (port === undefined) {
            console.log(`egress: ${request}: no route (502)`);
            client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
            return;
        }
        const upstream = net.connect(port, "127.0.0.1", () => {
            console.log(`egress: CONNECT ${m[1]} -> 127.0.0.1:${port}`);
            client.write("HTTP/1.1 200 Connection established\r\n\r\n");
            if (rest.length > 0) upstream.write(rest);
            client.pipe(upstream);
            upstream.pipe(client);
            client.resume();
        });
        upstream.on("error", (err) => {
            console.log(`egress: CONNECT ${m[1]} -> 127.0.0.1:${port}: ${err.message}`);
            if (!client.destroyed && client.bytesWritten === 0) client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
            else client.destroy();
        });
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
    };
    client.on("data", onData);
});

rmSync(socketPath, { force: true });
server.listen(socketPath, () => console.log(`egress: HTTP CONNECT proxy on ${socketPath}, routes from ${routesFile}`));
for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
        server.close(() => process.exit(0));
        // Open tunnels would keep close() waiting.
        setTimeout(() => process.exit(0), 1000).unref();
    });
}
