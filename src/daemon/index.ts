/** Runs `wharf daemon` with its command-line arguments; resolves to the process exit code. */
export async function runDaemon(_argv: string[]): Promise<number> {
  process.stderr.write("wharf daemon: not implemented yet\n");
  return 1;
}
