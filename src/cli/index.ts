/** Runs a client command (`wharf run ...`); resolves to the process exit code. */
export async function runCli(_argv: string[]): Promise<number> {
  process.stderr.write("wharf: not implemented yet\n");
  return 1;
}
