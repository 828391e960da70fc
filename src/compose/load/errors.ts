/** A Compose file or option that cannot be loaded; the message is what docker compose prints. */
export class LoadError extends Error {
  /** The file at fault, when one is. */
  readonly file: string | undefined;

  constructor(message: string, opts: { file?: string; cause?: unknown } = {}) {
    super(opts.file ? `${opts.file}: ${message}` : message, { cause: opts.cause });
    this.name = "LoadError";
    this.file = opts.file;
  }
}
