// `login`, `logout` and `push`: credentials kept in the client config, sent as `X-Registry-Auth`.

import { encodeRegistryAuth } from "../client/index.ts";
import { flag } from "./args.ts";
import { configDir, loadConfig, registryAuthHeader, saveConfig, serverKey } from "./auth.ts";
import { bool, type CommandDef, memoryWriter, readLine, StatusError, str, write } from "./common.ts";
import { displayJsonMessages } from "./progress.ts";
import { isNameOnly, normalizeName, splitImageRef } from "./pull.ts";

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let s = "";
  for await (const c of input) s += c.toString();
  return s;
}

const login: CommandDef = {
  spec: {
    name: "login",
    usage: "login [OPTIONS] [SERVER]",
    desc: "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
    maxArgs: 1,
    flags: [
      flag.string("password", "Password or Personal Access Token (PAT)", { short: "p" }),
      flag.bool("password-stdin", "Take the Password or Personal Access Token (PAT) from stdin"),
      flag.string("username", "Username", { short: "u" }),
    ],
  },
  async run(cli, p) {
    let username = str(p, "username").trim();
    let password = str(p, "password");
    if (password) {
      await write(cli.err, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
      if (bool(p, "password-stdin"))
        throw new StatusError(1, "--password and --password-stdin are mutually exclusive");
    }
    if (bool(p, "password-stdin")) {
      if (!username) throw new StatusError(1, "Must provide --username with --password-stdin");
      password = (await readAll(process.stdin)).replace(/\r?\n$/, "");
    }
    const key = serverKey(p.args[0] ?? "");
    if (!username || !password) {
      if (!process.stdin.isTTY)
        throw new StatusError(1, "Error: Cannot perform an interactive login from a non TTY device");
      if (!username) {
        await write(cli.out, "Username: ");
        username = (await readLine()).trim();
      }
      if (!password) {
        await write(cli.out, "Password: ");
        process.stdin.setRawMode?.(true);
        password = (await readLine()).replace(/\r$/, "");
        process.stdin.setRawMode?.(false);
        await write(cli.out, "\n");
      }
    }
    const res = await cli.client().auth({ username, password, serveraddress: key });
    const cfg = await loadConfig();
    cfg.auths ??= {};
    cfg.auths[key] = res?.IdentityToken
      ? { auth: Buffer.from(`${username}:`).toString("base64"), identitytoken: res.IdentityToken }
      : { auth: Buffer.from(`${username}:${password}`).toString("base64") };
    const file = await saveConfig(cfg);
    await write(
      cli.err,
      `WARNING! Your credentials are stored unencrypted in '${file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`,
    );
    await write(cli.out, `${res?.Status || "Login Succeeded"}\n`);
    return 0;
  },
};

const logout: CommandDef = {
  spec: {
    name: "logout",
    usage: "logout [SERVER]",
    desc: "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.",
    maxArgs: 1,
    flags: [],
  },
  async run(cli, p) {
    const key = serverKey(p.args[0] ?? "");
    const cfg = await loadConfig();
    if (!cfg.auths?.[key]) {
      await write(cli.out, `Not logged in to ${key}\n`);
      return 0;
    }
    await write(cli.out, `Removing login credentials for ${key}\n`);
    delete cfg.auths[key];
    await saveConfig(cfg);
    void configDir;
    return 0;
  },
};

/** Docker's familiar form of a name: `docker.io/library/x` → `x`. */
function familiar(name: string): string {
  return name.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
}

const push: CommandDef = {
  spec: {
    name: "push",
    usage: "push [OPTIONS] NAME[:TAG]",
    desc: "Upload an image to a registry",
    aliases: ["image push", "push"],
    minArgs: 1,
    maxArgs: 1,
    flags: [
      flag.bool("all-tags", "Push all tags of an image to the repository", { short: "a" }),
      flag.bool("disable-content-trust", "Skip image signing", { default: true }),
      flag.string(
        "platform",
        "Push a platform-specific manifest as a single-platform image to the registry.",
      ),
      flag.bool("quiet", "Suppress verbose output", { short: "q" }),
    ],
  },
  async run(cli, p) {
    const ref = p.args[0];
    const quiet = bool(p, "quiet");
    const all = bool(p, "all-tags");
    if (all && !isNameOnly(ref)) throw new StatusError(1, "tag can't be used with --all-tags/-a");
    let tag: string | undefined;
    let full = ref;
    if (!all) {
      if (isNameOnly(ref)) {
        if (!quiet) await write(cli.out, "Using default tag: latest\n");
        full = `${ref}:latest`;
      }
      tag = splitImageRef(full).tag;
    }
    const name = splitImageRef(full).name;
    const res = await cli.client().imagePush(
      familiar(normalizeName(name)),
      {
        tag,
        platform: str(p, "platform") || undefined,
      },
      { registryAuth: (await registryAuthHeader(normalizeName(name))) || encodeRegistryAuth({}) },
    );
    const tty = !!(cli.out as { isTTY?: boolean }).isTTY;
    if (quiet) {
      await displayJsonMessages(res, memoryWriter());
      await write(cli.out, `${normalizeName(name)}${tag ? `:${tag}` : ""}\n`);
    } else {
      await displayJsonMessages(res, cli.out, { tty, width: (cli.out as { columns?: number }).columns });
    }
    return 0;
  },
};

/** The registry commands, by key. */
export const commands: Record<string, CommandDef> = { login, logout, push };
