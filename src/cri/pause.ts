/**
 * The pods' pause image, made on this host from an installed static binary (catatonit's pause mode) rather
 * than pulled from a registry: a node with no registry in reach can still run pods. It is imported into the
 * image store once, under a fixed name, like any `docker import`.
 */
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import tar from "tar-stream";
import type { LocalImageService } from "../image/index.ts";

/** The name of the pause image in the store. */
export const PAUSE_IMAGE = "localhost/wharf-pause:catatonit";

/** A fixed mtime, so each build of the layer is byte-identical. */
const MTIME = new Date("2024-01-01T00:00:00Z");

async function pauseTar(binary: string): Promise<Readable> {
  const body = await readFile(binary);
  const pack = tar.pack();
  for (const d of ["dev", "etc", "proc", "sys"])
    pack.entry({ name: d, type: "directory", mode: 0o755, mtime: MTIME });
  pack.entry({ name: "etc/passwd", mode: 0o644, mtime: MTIME }, "root:x:0:0:root:/:/pause\n");
  pack.entry({ name: "etc/group", mode: 0o644, mtime: MTIME }, "root:x:0:\n");
  pack.entry({ name: "pause", mode: 0o755, mtime: MTIME, size: body.length }, body);
  pack.finalize();
  return Readable.from(pack);
}

/** Makes sure the pause image exists (imports it on first use); its ID. */
export class PauseImage {
  readonly #images: LocalImageService;
  readonly #binary: string;
  #pending: Promise<string> | undefined;

  constructor(images: LocalImageService, binary: string) {
    this.#images = images;
    this.#binary = binary;
  }

  ensure(): Promise<string> {
    this.#pending ??= this.#make().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #make(): Promise<string> {
    try {
      return (await this.#images.resolve(PAUSE_IMAGE)).id;
    } catch {}
    const [repo, tag] = PAUSE_IMAGE.split(":") as [string, string];
    // catatonit -P: sleeps, reaps what the pod's shared PID namespace leaves it, and exits on SIGTERM/SIGINT.
    await this.#images.importTar(await pauseTar(this.#binary), {
      repo,
      tag,
      changes: ['ENTRYPOINT ["/pause", "-P"]', "STOPSIGNAL SIGINT"],
      message: "wharf pause image",
    });
    return (await this.#images.resolve(PAUSE_IMAGE)).id;
  }
}
