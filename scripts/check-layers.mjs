// Enforces ARCHITECTURE.md's import rules: which src/ folder may import which. Type-only imports count
// like any other: the shared shapes live in the leaves apitypes/ (Engine API) and oci/ (OCI specs).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The tree to check: src/ beside this script, or the folder given as the first argument (the test uses a temp
// tree), with an ARCHITECTURE.md to hold to the rules as the optional second.
const src = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "../src"));
const services = ["container", "image", "build", "network", "volume", "system"];
const engine = ["content", "layer", "distribution", "runtime", "netdrv", "store"];
const base = ["util", "errdefs", "host"];
/** Leaf folders of shared shapes (types only). */
const shapes = ["apitypes", "oci"];
/** folder → folders it may import (itself always allowed). */
const allowed = {
  main: ["cli", "daemon", "registry", "compose", "ui", ...base],
  cli: ["client", "apitypes", ...base],
  client: ["apitypes", ...base],
  api: [...services, ...shapes, ...base],
  // BuildKit's gRPC front end sits beside api/ and drives the same services.
  buildkit: [...services, ...shapes, ...base],
  // The Kubernetes CRI front end likewise sits beside api/ over the same services.
  cri: [...services, ...shapes, ...base],
  ...Object.fromEntries(services.map((s) => [s, [...engine, ...shapes, ...base]])),
  content: [...base],
  layer: ["content", ...base],
  distribution: ["content", "oci", ...base],
  runtime: ["oci", ...base],
  netdrv: [...base],
  store: [...base],
  registry: ["content", ...base],
  compose: ["client", "apitypes", ...base],
  ui: ["client", "apitypes", ...base],
  daemon: ["api", "buildkit", "cri", ...services, ...engine, ...shapes, ...base],
  apitypes: [],
  oci: ["apitypes"],
  errdefs: [],
  host: ["errdefs", "util"],
  util: [],
};

/**
 * The service → service imports that remain, each with its reason. Services otherwise reach each other only
 * through interfaces daemon/ passes in. A `types` entry admits type-only imports; a `file` entry one file.
 */
const serviceExceptions = [
  { from: "build", to: "image", types: true, why: "the image backend build declares names image's LayerRef and ResolvedImage" },
  { from: "build", to: "image", file: "build/commit.ts", why: "commit applies --change with image's applyChanges, as import does" },
  { from: "container", to: "network", types: true, why: "the network backend container declares names network's NetworkSetup" },
];

/**
 * Every effect on the kernel and on processes goes through host/: only it may import node:child_process
 * or load the native addon. The files below are the exceptions, each with its reason.
 */
const hostOnlyExceptions = [
  { file: "image/testdata.ts", why: "builds a busybox image for tests from the host's busybox; never used by the daemon" },
];
const hostOnly = /^(node:)?child_process$|wharf_native/;

/** Whether an import/export statement brings only types (`import type {..}` or every name marked `type`). */
function typeOnly(statement, typeKeyword) {
  if (typeKeyword) return true;
  const names = statement.match(/\{([^}]*)\}/)?.[1];
  if (!names) return false;
  const list = names.split(",").map((n) => n.trim()).filter(Boolean);
  return list.length > 0 && list.every((n) => n.startsWith("type "));
}

function excepted(rel, from, to, statement, typeKeyword) {
  return serviceExceptions.some(
    (e) =>
      e.from === from &&
      e.to === to &&
      (e.file ? e.file === rel : true) &&
      (e.types ? typeOnly(statement, typeKeyword) : true),
  );
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) yield p;
  }
}

const problems = [];
for (const file of files(src)) {
  const rel = relative(src, file);
  const from = rel.includes("/") ? rel.split("/")[0] : "main";
  const text = readFileSync(file, "utf8");
  if (from !== "host" && /wharf_native\.node/.test(text))
    problems.push(`${rel}: only host/ may load the native addon`);
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm)) {
    const spec = m[3] ?? m[4];
    if (spec && hostOnly.test(spec) && from !== "host" && !hostOnlyExceptions.some((e) => e.file === rel)) {
      problems.push(`${rel}: only host/ may import ${spec}; go through the Host interface`);
      continue;
    }
    if (!spec?.startsWith(".")) continue;
    const target = relative(src, resolve(dirname(file), spec));
    if (target.startsWith("..")) continue;
    const to = target.includes("/") ? target.split("/")[0] : "main";
    if (to === from) continue;
    const ok = (allowed[from] ?? []).includes(to) || excepted(rel, from, to, m[0], m[2]);
    if (!ok) problems.push(`${rel}: ${from}/ may not import ${target}`);
    else if (!target.endsWith("/index.ts"))
      problems.push(`${rel}: import ${to}/ through its index.ts, not ${target}`);
  }
}
/**
 * ARCHITECTURE.md's folder table must state these rules: each row's last column, its group words expanded,
 * equals `allowed` for that folder, and every folder has a row. The real tree is checked against the page
 * beside it; a temp tree (first argument) against the page given as the second, if any.
 */
function checkPage(page) {
  const groups = { services, "engine parts": engine, shapes, base };
  const rows = new Map();
  for (const line of page.split("\n")) {
    const m = line.match(/^\| `([a-z]+)\/?` \|.*\| ([^|]*) \|$/);
    if (!m) continue;
    let rest = m[2];
    const names = new Set();
    for (const [word, members] of Object.entries(groups)) {
      if (rest.includes(word)) {
        rest = rest.replace(word, "");
        for (const f of members) names.add(f);
      }
    }
    for (const f of rest.matchAll(/`([a-z]+)\/`/g)) names.add(f[1]);
    rows.set(m[1], names);
  }
  for (const [folder, may] of Object.entries(allowed)) {
    const row = rows.get(folder);
    if (!row) {
      problems.push(`ARCHITECTURE.md: no row for ${folder}`);
      continue;
    }
    const want = [...may].sort().join(" ");
    const got = [...row].filter((f) => f !== folder).sort().join(" ");
    if (want !== got) problems.push(`ARCHITECTURE.md: ${folder} may import "${want}" here, the page says "${got}"`);
  }
  for (const folder of rows.keys()) if (!(folder in allowed)) problems.push(`ARCHITECTURE.md: ${folder} has a row but no rule`);
}
const page = process.argv[2] ? process.argv[3] : join(src, "../ARCHITECTURE.md");
if (page) checkPage(readFileSync(page, "utf8"));

if (problems.length) {
  console.error(`layer rules broken (see ARCHITECTURE.md):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
