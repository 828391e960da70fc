import assert from "node:assert/strict";
import { test } from "node:test";
import type { Iptables as HostIptables } from "../host/index.ts";
import { chainNames, Iptables, removeDaemonRules } from "./iptables.ts";

/** Records scripts; `saved` is what iptables-save prints per table. */
function fakeRunner(saved: Record<string, string> = {}) {
  const scripts: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const run: HostIptables & { scripts: string[]; hold(p: Promise<void>): void } = {
    scripts,
    hold(p) {
      gate = p;
    },
    async restore(script) {
      await gate;
      scripts.push(script);
    },
    async save(table) {
      return saved[table] ?? "";
    },
  };
  return run;
}

test("chains carry the daemon's tag", () => {
  assert.deepEqual(chainNames("wt1"), {
    dnat: "WHARF-wt1",
    post: "WHARF-wt1-POST",
    fwd: "WHARF-wt1-FWD",
    iso: "WHARF-wt1-ISO",
    iso2: "WHARF-wt1-ISO2",
  });
});

test("the first sync drops an earlier run's jumps and hooks the chains in once; later ones only rewrite them", async () => {
  const run = fakeRunner({
    nat: "*nat\n-A PREROUTING -m addrtype --dst-type LOCAL -j WHARF-wt1\n-A PREROUTING -j OTHER\nCOMMIT\n",
  });
  const ipt = new Iptables("wt1", run);
  ipt.setNetwork("n1", { bridge: "br-1", subnet: "10.8.0.0/24", internal: false });
  await ipt.sync();
  const first = run.scripts[0].split("\n");
  assert.ok(first.includes("-D PREROUTING -m addrtype --dst-type LOCAL -j WHARF-wt1"));
  assert.ok(!first.some((l) => l.includes("OTHER")), "other chains' jumps stay");
  assert.ok(first.includes("-I PREROUTING -m addrtype --dst-type LOCAL -j WHARF-wt1"));
  assert.ok(first.includes("-I FORWARD -j WHARF-wt1-FWD"));
  await ipt.sync();
  assert.ok(!run.scripts[1].includes("-I "), "jumps are inserted once per process");
  assert.ok(run.scripts[1].startsWith("*nat\n:WHARF-wt1 - [0:0]\n:WHARF-wt1-POST - [0:0]\n"));
});

test("networks get masquerading and isolation; internal ones only their own traffic", async () => {
  const run = fakeRunner();
  const ipt = new Iptables("wt1", run);
  ipt.setNetwork("n1", { bridge: "br-1", subnet: "10.8.0.0/24", internal: false });
  ipt.setNetwork("n2", { bridge: "br-2", subnet: "10.9.0.0/24", internal: true });
  await ipt.sync();
  const lines = run.scripts[0].split("\n");
  for (const want of [
    "-A WHARF-wt1 -i br-1 -j RETURN",
    "-A WHARF-wt1-POST -s 10.8.0.0/24 ! -o br-1 -j MASQUERADE",
    "-A WHARF-wt1-ISO -i br-1 ! -o br-1 -j WHARF-wt1-ISO2",
    "-A WHARF-wt1-ISO2 -o br-1 -j DROP",
    "-A WHARF-wt1-ISO -i br-2 ! -o br-2 -j DROP",
    "-A WHARF-wt1-ISO ! -i br-2 -o br-2 -j DROP",
    "-A WHARF-wt1-FWD -i br-2 -o br-2 -j ACCEPT",
    "-A WHARF-wt1-FWD -o br-1 -m conntrack --ctstate DNAT -j ACCEPT",
  ])
    assert.ok(lines.includes(want), want);
  assert.ok(!lines.some((l) => l.includes("MASQUERADE") && l.includes("br-2")), "internal: no masquerade");
  ipt.deleteNetwork("n2");
  await ipt.sync();
  assert.ok(!run.scripts[1].includes("br-2"));
});

test("published ports become DNAT rules, except on loopback (the proxy's)", async () => {
  const run = fakeRunner();
  const ipt = new Iptables("wt1", run);
  ipt.setPorts("c1", [
    { proto: "tcp", hostIp: "", hostPort: 8080, containerIp: "10.8.0.2", containerPort: 80 },
    { proto: "udp", hostIp: "192.0.2.7", hostPort: 53, containerIp: "10.8.0.2", containerPort: 5353 },
    { proto: "tcp", hostIp: "127.0.0.1", hostPort: 9000, containerIp: "10.8.0.2", containerPort: 90 },
  ]);
  assert.ok(ipt.hasPorts("c1"));
  await ipt.sync();
  const dnat = run.scripts[0].split("\n").filter((l) => l.includes("DNAT --to"));
  assert.deepEqual(dnat, [
    "-A WHARF-wt1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.8.0.2:80",
    "-A WHARF-wt1 -d 192.0.2.7/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.8.0.2:5353",
  ]);
  ipt.setPorts("c1", []);
  assert.equal(ipt.hasPorts("c1"), false);
});

test("syncs that arrive while one runs share the next run", async () => {
  const run = fakeRunner();
  const ipt = new Iptables("wt1", run);
  let release = () => {};
  run.hold(
    new Promise<void>((r) => {
      release = r;
    }),
  );
  const first = ipt.sync();
  ipt.setPorts("c1", [{ proto: "tcp", hostIp: "", hostPort: 1, containerIp: "10.8.0.2", containerPort: 1 }]);
  const a = ipt.sync();
  const b = ipt.sync();
  assert.equal(a, b);
  release();
  await Promise.all([first, a, b]);
  assert.equal(run.scripts.length, 2);
  assert.ok(run.scripts[1].includes("--dport 1 "), "the shared run writes the latest state");
});

test("removeDaemonRules flushes and deletes only this daemon's chains and jumps", async () => {
  const run = fakeRunner({
    nat: ":WHARF-wt1 - [0:0]\n:WHARF-wt1-POST - [0:0]\n-A OUTPUT -j WHARF-wt1\n-A OUTPUT -j WHARF-wt2\n",
    filter: ":WHARF-wt1-FWD - [0:0]\n-A FORWARD -j WHARF-wt1-FWD\n",
  });
  await removeDaemonRules("wt1", run);
  assert.equal(
    run.scripts[0],
    [
      "*nat",
      "-D OUTPUT -j WHARF-wt1",
      "-F WHARF-wt1",
      "-F WHARF-wt1-POST",
      "-X WHARF-wt1",
      "-X WHARF-wt1-POST",
      "COMMIT",
      "*filter",
      "-D FORWARD -j WHARF-wt1-FWD",
      "-F WHARF-wt1-FWD",
      "-X WHARF-wt1-FWD",
      "COMMIT",
      "",
    ].join("\n"),
  );
});
