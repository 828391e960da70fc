/** TCP with mutual TLS: the docker CLI with a client certificate gets in, without one it does not. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DOCKER, exec, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;
let certs: string;
let port: number;

async function openssl(args: string[]): Promise<void> {
  const r = await exec("openssl", args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  certs = await mkdtemp(join(tmpdir(), "wt-tls-"));
  const c = (f: string) => join(certs, f);
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    c("ca-key.pem"),
    "-out",
    c("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=wharf-test-ca",
  ]);
  for (const [name, ext] of [
    ["server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"],
    ["client", "extendedKeyUsage=clientAuth"],
  ]) {
    await openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      c(`${name}-key.pem`),
      "-out",
      c(`${name}.csr`),
      "-subj",
      `/CN=${name}`,
    ]);
    await exec("sh", ["-c", `printf '${ext}\\n' > ${c(`${name}.ext`)}`]);
    await openssl([
      "x509",
      "-req",
      "-in",
      c(`${name}.csr`),
      "-CA",
      c("ca.pem"),
      "-CAkey",
      c("ca-key.pem"),
      "-CAcreateserial",
      "-out",
      c(`${name}.pem`),
      "-days",
      "2",
      "-extfile",
      c(`${name}.ext`),
    ]);
  }
  port = await freePort();
  d = await startDaemon({
    name: "tls",
    args: [
      "-H",
      `tcp://127.0.0.1:${port}`,
      "--tlsverify",
      "--tlscacert",
      c("ca.pem"),
      "--tlscert",
      c("server.pem"),
      "--tlskey",
      c("server-key.pem"),
    ],
  });
});
after(async () => {
  await d?.stop();
  if (certs) await rm(certs, { recursive: true, force: true });
});

test("docker CLI over TCP with a client certificate", async () => {
  const c = (f: string) => join(certs, f);
  const ok = await exec(
    DOCKER,
    [
      "--tlsverify",
      "--tlscacert",
      c("ca.pem"),
      "--tlscert",
      c("client.pem"),
      "--tlskey",
      c("client-key.pem"),
      "-H",
      `tcp://127.0.0.1:${port}`,
      "version",
      "--format",
      "{{.Server.APIVersion}}",
    ],
    { env: { DOCKER_CONFIG: join(certs, "cfg") } },
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "1.47");
  const noCert = await exec(
    DOCKER,
    ["--tls", "--tlscacert", c("ca.pem"), "-H", `tcp://127.0.0.1:${port}`, "version"],
    { env: { DOCKER_CONFIG: join(certs, "cfg") } },
  );
  assert.notEqual(noCert.code, 0);
  // The unix socket keeps working beside TCP.
  const unix = await exec(DOCKER, ["-H", d.host, "version", "--format", "{{.Server.APIVersion}}"]);
  assert.equal(unix.stdout.trim(), "1.47");
});
