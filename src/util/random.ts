/**
 * `bytes` random bytes in hex. node:crypto is loaded on first use, not when util/ is imported: the CLI
 * imports util/ and would otherwise pay for loading it at every start.
 */
export function randomHex(bytes: number): string {
  return process.getBuiltinModule("node:crypto").randomBytes(bytes).toString("hex");
}
