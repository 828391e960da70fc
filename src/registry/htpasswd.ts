import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import bcrypt from "bcryptjs";

/** Users and bcrypt hashes from an htpasswd file (`htpasswd -B`); other hash kinds are refused at load. */
export class Htpasswd {
  private readonly users: Map<string, string>;
  /** user → sha256 of a password already verified: bcrypt costs ~50 ms a check, and clients send it per request. */
  private readonly verified = new Map<string, string>();

  constructor(users: Map<string, string>) {
    this.users = users;
  }

  /** Reads and checks the file. */
  static async load(path: string): Promise<Htpasswd> {
    const users = new Map<string, string>();
    for (const raw of (await readFile(path, "utf8")).split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const i = line.indexOf(":");
      if (i <= 0) throw new Error(`htpasswd ${path}: malformed line`);
      const hash = line.slice(i + 1);
      if (!/^\$2[abxy]\$\d\d\$/.test(hash)) {
        throw new Error(`htpasswd ${path}: only bcrypt hashes are supported (htpasswd -B)`);
      }
      users.set(line.slice(0, i), hash);
    }
    return new Htpasswd(users);
  }

  async check(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (!hash) return false;
    const fp = createHash("sha256").update(`${hash}\0${password}`).digest("hex");
    if (this.verified.get(user) === fp) return true;
    // bcryptjs only knows $2a$/$2b$; $2y$ (Apache's) is the same algorithm.
    const ok = await bcrypt.compare(password, hash.replace(/^\$2y\$/, "$2b$"));
    if (ok) this.verified.set(user, fp);
    return ok;
  }
}

/** A bcrypt hash of `password` (for tests and tooling that write htpasswd files). */
export function bcryptHash(password: string, cost = 10): string {
  return bcrypt.hashSync(password, cost);
}
