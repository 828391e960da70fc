/**
 * `GET /distribution/{name}/json` (docker-py's `get_registry_data`, the docker CLI's digest resolution): the
 * reference parsed as dockerd parses it (an image ID has no manifest, a bare name is `:latest`), then its
 * descriptor and platforms asked of the registry it names.
 */
import {
  type Credentials,
  type DistributionInspection,
  inspectManifest,
  RegistryClient,
  type RegistrySettings,
} from "../distribution/index.ts";
import { SystemError } from "../errdefs/index.ts";
import { endpointFor } from "./pull.ts";
import { parseAny, withDefaultTag } from "./reference.ts";

/** The registry's descriptor and platforms of `name`. */
export async function registryData(
  settings: RegistrySettings,
  opts: { name: string; auth?: Credentials },
): Promise<DistributionInspection> {
  const any = parseAny(opts.name);
  if (any.kind === "id") throw new SystemError("no manifest found for full image ID");
  const ref = withDefaultTag(any.ref);
  const { base, repo } = endpointFor(ref, settings, opts.name);
  const client = new RegistryClient({ base, repo, creds: opts.auth });
  return inspectManifest(client, ref.digest ?? ref.tag ?? "latest");
}
