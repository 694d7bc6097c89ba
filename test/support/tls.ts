/**
 * A throwaway self-signed certificate for 127.0.0.1, for stand-in HTTPS servers: the doctor
 * refuses `insecure-skip-tls-verify` and plain http, so its stand-in API server speaks TLS with a
 * CA the kubeconfig names, as AKS does. Made with the openssl CLI at test time (no key committed).
 */
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

export interface TestCert {
    cert: string;
    key: string;
}

export function selfSignedCert(): TestCert {
    const dir = mkdtempSync(path.join(tmpdir(), "aks-vault-tls-"));
    try {
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
        ], { stdio: "ignore" });
        return { cert: readFileSync(path.join(dir, "cert.pem"), "utf8"), key: readFileSync(path.join(dir, "key.pem"), "utf8") };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
