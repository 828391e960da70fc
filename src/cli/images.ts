// Image commands: images (image ls), import, tag, rmi, pull.

import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { flag } from "./args.ts";
import {
  bool,
  type CommandDef,
  FORMAT_FLAG_DESC,
  filterFlag,
  filtersFrom,
  forEachTarget,
  list,
  StatusError,
  str,
  write,
} from "./common.ts";
import { IMAGE_HEADERS, imageRows } from "./contexts.ts";
import { renderList } from "./format/index.ts";
import { listFormat } from "./listing.ts";
import { displayJsonMessages, fullReference, isNameOnly, pullImage, splitImageRef } from "./pull.ts";

const images: CommandDef = {
  spec: {
    name: "images",
    usage: "images [OPTIONS] [REPOSITORY[:TAG]]",
    desc: "List images",
    aliases: ["image ls", "image list", "images"],
    maxArgs: 1,
    flags: [
      flag.bool("all", "Show all images (default hides intermediate images)", { short: "a" }),
      flag.bool("digests", "Show digests"),
      filterFlag("Filter output based on conditions provided", { short: true }),
      flag.string("format", FORMAT_FLAG_DESC),
      flag.bool("no-trunc", "Don't truncate output"),
      flag.bool("quiet", "Only show image IDs", { short: "q" }),
    ],
  },
  async run(cli, p) {
    const filters = filtersFrom(list(p, "filter")) ?? {};
    if (p.args[0]) filters.reference = [...(filters.reference ?? []), p.args[0]];
    // Digests are looked up only when shown, as docker does.
    const digests = bool(p, "digests") || str(p, "format").includes(".Digest");
    const fmt = listFormat(p, {
      quiet: "{{.ID}}",
      table: digests
        ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
        : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
    });
    const list_ = await cli.client().imageList({
      all: bool(p, "all") || undefined,
      filters: Object.keys(filters).length ? filters : undefined,
    });
    const rows = imageRows(list_, { trunc: !bool(p, "no-trunc"), digests });
    await write(cli.out, renderList(fmt, rows, { headers: IMAGE_HEADERS }));
    return 0;
  },
};

const importCmd: CommandDef = {
  spec: {
    name: "import",
    usage: "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    desc: "Import the contents from a tarball to create a filesystem image",
    aliases: ["image import", "import"],
    minArgs: 1,
    maxArgs: 2,
    flags: [
      flag.list("change", "Apply Dockerfile instruction to the created image", { short: "c" }),
      flag.string("message", "Set commit message for imported image", { short: "m" }),
      flag.string("platform", "Set platform if server is multi-platform capable"),
    ],
  },
  async run(cli, p) {
    const [src, ref] = p.args;
    let body: Readable | undefined;
    let fromSrc = src;
    if (src === "-") {
      body = process.stdin;
    } else if (!/^[a-z]+:\/\//i.test(src)) {
      body = createReadStream(src);
      fromSrc = "-";
      await new Promise<void>((resolve, reject) => {
        body?.once("open", () => resolve());
        body?.once("error", (err: NodeJS.ErrnoException) =>
          reject(
            new StatusError(
              1,
              `open ${src}: ${err.code === "ENOENT" ? "no such file or directory" : err.message}`,
            ),
          ),
        );
      });
    }
    let repo: string | undefined;
    let tag: string | undefined;
    if (ref) {
      const r = splitImageRef(ref);
      repo = r.name;
      tag = ref.includes(":") && ref.lastIndexOf(":") > ref.lastIndexOf("/") ? r.tag : undefined;
    }
    const res = await cli.client().imageCreate(
      {
        fromSrc,
        repo,
        tag,
        message: str(p, "message") || undefined,
        changes: list(p, "change").length ? list(p, "change") : undefined,
        platform: str(p, "platform") || undefined,
      },
      { body },
    );
    await displayJsonMessages(res, cli.out);
    return 0;
  },
};

const tag: CommandDef = {
  spec: {
    name: "tag",
    usage: "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    desc: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    aliases: ["image tag", "tag"],
    minArgs: 2,
    maxArgs: 2,
    flags: [],
  },
  async run(cli, p) {
    const [source, target] = p.args;
    const { name, tag: t } = splitImageRef(target);
    if (target.includes("@")) throw new StatusError(1, "refusing to create a tag with a digest reference");
    await cli.client().imageTag(source, { repo: name, tag: t });
    return 0;
  },
};

const rmi: CommandDef = {
  spec: {
    name: "rmi",
    usage: "rmi [OPTIONS] IMAGE [IMAGE...]",
    desc: "Remove one or more images",
    aliases: ["image rm", "image remove", "rmi"],
    minArgs: 1,
    flags: [
      flag.bool("force", "Force removal of the image", { short: "f" }),
      flag.bool("no-prune", "Do not delete untagged parents"),
    ],
  },
  async run(cli, p) {
    return forEachTarget(cli, p.args, async (ref) => {
      const items = await cli.client().imageRemove(ref, {
        force: bool(p, "force") || undefined,
        noprune: bool(p, "no-prune") || undefined,
      });
      const lines = (items ?? []).map((i) =>
        i.Untagged ? `Untagged: ${i.Untagged}` : `Deleted: ${i.Deleted}`,
      );
      return lines.length ? lines.join("\n") : undefined;
    });
  },
};

const pull: CommandDef = {
  spec: {
    name: "pull",
    usage: "pull [OPTIONS] NAME[:TAG|@DIGEST]",
    desc: "Download an image from a registry",
    aliases: ["image pull", "pull"],
    minArgs: 1,
    maxArgs: 1,
    flags: [
      flag.bool("all-tags", "Download all tagged images in the repository", { short: "a" }),
      flag.bool("disable-content-trust", "Skip image verification", { default: true }),
      flag.bool("quiet", "Suppress verbose output", { short: "q" }),
      flag.string("platform", "Set platform if server is multi-platform capable"),
    ],
  },
  async run(cli, p) {
    let ref = p.args[0];
    const quiet = bool(p, "quiet");
    if (bool(p, "all-tags") && !isNameOnly(ref))
      throw new StatusError(1, "tag can't be used with --all-tags/-a");
    if (!bool(p, "all-tags") && isNameOnly(ref)) {
      ref = `${ref}:latest`;
      if (!quiet) await write(cli.out, "Using default tag: latest\n");
    }
    await pullImage(cli.client(), ref, { out: cli.out, quiet, platform: str(p, "platform") });
    await write(cli.out, `${fullReference(ref)}\n`);
    return 0;
  },
};

/** The image commands, by key. */
export const commands: Record<string, CommandDef> = { images, import: importCmd, tag, rmi, pull };
