/** Builders of synthetic projects and engine states for the compose unit tests. */
import type { ContainerSummary } from "../apitypes/index.ts";
import { configHash, LABELS } from "./model.ts";
import type { Project, ServiceConfig } from "./types.ts";

/** A project named `p` with these services (each gets the default network unless it says otherwise). */
export function testProject(
  services: Record<string, Partial<ServiceConfig>>,
  extra: Partial<Project> = {},
): Project {
  const svcs: Record<string, ServiceConfig> = {};
  for (const [name, s] of Object.entries(services)) {
    svcs[name] = { name, image: `${name}:latest`, networks: { default: null }, ...s };
  }
  return {
    name: "p",
    workingDir: "/src/p",
    configFiles: ["/src/p/compose.yaml"],
    environment: {},
    services: svcs,
    disabledServices: {},
    networks: { default: { name: "p_default" } },
    volumes: {},
    secrets: {},
    configs: {},
    extensions: {},
    profiles: [],
    ...extra,
  };
}

/** A listed container of `project`'s service, as `GET /containers/json?all=1` shows it. */
export function testContainer(
  project: Project,
  service: string,
  n: number,
  opts: { state?: string; hash?: string; oneoff?: boolean; projectName?: string; imageId?: string } = {},
): ContainerSummary {
  const svc = project.services[service];
  const labels: Record<string, string> = {
    [LABELS.project]: opts.projectName ?? project.name,
    [LABELS.service]: service,
    [LABELS.number]: String(n),
    [LABELS.oneoff]: opts.oneoff ? "True" : "False",
    [LABELS.configHash]: opts.hash ?? (svc ? configHash(svc) : "gone"),
  };
  if (opts.imageId) labels[LABELS.image] = opts.imageId;
  return {
    Id: `${service}${n}`.padEnd(64, "0"),
    Names: [`/${project.name}-${service}-${n}`],
    Image: svc?.image ?? "x",
    ImageID: opts.imageId ?? "",
    Command: "",
    Created: 0,
    Ports: [],
    Labels: labels,
    State: opts.state ?? "running",
    Status: "",
    HostConfig: { NetworkMode: "default" },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  } as unknown as ContainerSummary;
}
