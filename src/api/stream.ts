/** Docker's stream types in the multiplexed framing. */
export const StreamType = { stdin: 0, stdout: 1, stderr: 2, systemErr: 3 } as const;

/** One frame of Docker's multiplexed stream: [type, 0, 0, 0, uint32 BE length] + payload. */
export function muxFrame(type: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out[0] = type;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, 8);
  return out;
}

/** Writes output either raw (TTY) or multiplexed (no TTY), as Docker frames attach, exec and logs. */
export function outputWriter(
  dst: { write(chunk: Buffer): boolean },
  opts: { tty: boolean },
): (type: number, chunk: Buffer) => boolean {
  if (opts.tty) return (_type, chunk) => dst.write(chunk);
  return (type, chunk) => (chunk.length === 0 ? true : dst.write(muxFrame(type, chunk)));
}
