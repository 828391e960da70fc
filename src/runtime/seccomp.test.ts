import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSeccompProfile, seccompToOci } from "./seccomp.ts";
import { builtinSeccompProfile } from "./seccomp-default.ts";
import { parseSecurityOpts } from "./secopts.ts";
import { buildSpec, DEFAULT_CAPS } from "./spec.ts";

const host = { arch: "x64", kernel: "6.1.0" };

function allowed(caps: readonly string[], opts: { kernel?: string } = {}): Set<string> {
  const oci = seccompToOci(builtinSeccompProfile(), { caps, ...host, ...opts });
  return new Set(
    (oci.syscalls ?? []).filter((r) => r.action === "SCMP_ACT_ALLOW" && !r.args).flatMap((r) => r.names),
  );
}

test("the built-in profile refuses by default with EPERM on x86_64, x86 and x32", () => {
  const oci = seccompToOci(builtinSeccompProfile(), { caps: DEFAULT_CAPS, ...host });
  assert.equal(oci.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(oci.defaultErrnoRet, 1);
  assert.deepEqual(oci.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  const a = allowed(DEFAULT_CAPS);
  for (const n of ["read", "openat", "execve", "futex", "arch_prctl", "chroot", "ptrace"])
    assert.ok(a.has(n), n);
  for (const n of [
    "mount",
    "umount2",
    "unshare",
    "setns",
    "reboot",
    "kexec_load",
    "init_module",
    "bpf",
    "keyctl",
  ])
    assert.ok(!a.has(n), n);
  for (const n of ["swapon", "quotactl", "open_by_handle_at", "acct", "clock_settime"])
    assert.ok(!a.has(n), n);
});

test("capability-gated calls follow the bounding set", () => {
  const admin = allowed([...DEFAULT_CAPS, "CAP_SYS_ADMIN"]);
  for (const n of ["mount", "unshare", "setns", "clone", "clone3", "swapon"]) assert.ok(admin.has(n), n);
  assert.ok(allowed(["CAP_SYS_BOOT"]).has("reboot"));
  assert.ok(allowed(["CAP_SYS_MODULE"]).has("finit_module"));
  assert.ok(allowed(["CAP_DAC_READ_SEARCH"]).has("open_by_handle_at"));
  assert.ok(!allowed(DEFAULT_CAPS.filter((c) => c !== "CAP_SYS_CHROOT")).has("chroot"));
  // Before 4.8, ptrace could bypass seccomp: only CAP_SYS_PTRACE allows it there.
  assert.ok(!allowed(DEFAULT_CAPS, { kernel: "4.4.0" }).has("ptrace"));
  assert.ok(allowed(["CAP_SYS_PTRACE"], { kernel: "4.4.0" }).has("ptrace"));
});

test("clone without CAP_SYS_ADMIN is filtered on namespace flags; clone3 answers ENOSYS", () => {
  const oci = seccompToOci(builtinSeccompProfile(), { caps: DEFAULT_CAPS, ...host });
  const clone = oci.syscalls?.find((r) => r.names.includes("clone"));
  assert.deepEqual(clone?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }]);
  const clone3 = oci.syscalls?.find((r) => r.names.includes("clone3"));
  assert.equal(clone3?.action, "SCMP_ACT_ERRNO");
  assert.equal(clone3?.errnoRet, 38);
  const personality = oci.syscalls?.filter((r) => r.names.includes("personality")) ?? [];
  assert.deepEqual(
    personality.map((r) => r.args?.[0]?.value),
    [0, 8, 0x20000, 0x20008, 0xffffffff],
  );
  const admin = seccompToOci(builtinSeccompProfile(), { caps: ["CAP_SYS_ADMIN"], ...host });
  assert.ok(!admin.syscalls?.some((r) => r.names.includes("clone3") && r.action === "SCMP_ACT_ERRNO"));
});

test("a Docker-format profile is validated and converted", () => {
  const p = parseSeccompProfile(
    JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { name: "mkdir", action: "SCMP_ACT_ERRNO", errnoRet: 13 },
        { names: ["chmod"], action: "SCMP_ACT_ERRNO", includes: { arches: ["arm64"] } },
      ],
    }),
  );
  const oci = seccompToOci(p, { caps: [], ...host });
  assert.deepEqual(oci.syscalls, [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }]);
  assert.equal(oci.architectures, undefined);
  assert.throws(() => parseSeccompProfile("{"), /Decoding seccomp profile failed/);
  assert.throws(() => parseSeccompProfile('{"defaultAction":"NOPE"}'), /unknown defaultAction/);
  assert.throws(
    () =>
      parseSeccompProfile(
        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}',
      ),
    /use either 'name' or 'names'/,
  );
  assert.throws(
    () =>
      parseSeccompProfile(
        '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86"}]}',
      ),
    /use either 'architectures' or 'archMap'/,
  );
});

test("security options parse as dockerd reads them", () => {
  assert.equal(parseSecurityOpts(["no-new-privileges"]).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(["no-new-privileges=false"]).noNewPrivileges, false);
  assert.equal(parseSecurityOpts(["no-new-privileges:true"]).noNewPrivileges, true);
  assert.deepEqual(parseSecurityOpts(["seccomp=unconfined"]).seccomp, { kind: "unconfined" });
  assert.deepEqual(parseSecurityOpts(["seccomp=builtin"]).seccomp, { kind: "builtin" });
  assert.equal(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp?.kind, "profile");
  assert.equal(parseSecurityOpts(["apparmor=unconfined"]).apparmor, "unconfined");
  assert.deepEqual(parseSecurityOpts(["label=disable", "label:user:x"]).labels, ["disable", "user:x"]);
  assert.throws(() => parseSecurityOpts(["foo"]), /invalid --security-opt 1: "foo"/);
  assert.throws(() => parseSecurityOpts(["foo=bar"]), /invalid --security-opt 2: "foo=bar"/);
  assert.throws(() => parseSecurityOpts(["no-new-privileges=maybe"]), /invalid --security-opt 2/);
  assert.throws(() => parseSecurityOpts(["seccomp=/no/such.json"]), /Decoding seccomp profile failed/);
});

test("buildSpec applies the built-in profile, none when privileged or unconfined", () => {
  const base = { id: "c1", rootfs: "/r", args: ["sh"] };
  assert.equal(buildSpec(base).linux.seccomp?.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(buildSpec({ ...base, privileged: true }).linux.seccomp, undefined);
  assert.equal(buildSpec({ ...base, seccomp: { kind: "unconfined" } }).linux.seccomp, undefined);
  const added = buildSpec({ ...base, capAdd: ["SYS_ADMIN"] }).linux.seccomp;
  assert.ok(added?.syscalls?.some((r) => r.names.includes("mount")));
});
