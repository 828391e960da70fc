/**
 * How pods and their containers are kept as wharf containers, so `docker ps` shows them as dockerd shows
 * cri-dockerd's: names `k8s_POD_<pod>_<ns>_<uid>_<attempt>` and `k8s_<ctr>_<pod>_<ns>_<uid>_<attempt>`,
 * kubelet's labels as they are, annotations as `annotation.<key>` labels, and a few of wharf's own.
 */
import type { ContainerMetadata, PodSandboxMetadata } from "./types.ts";

/** cri-dockerd's label telling sandboxes from containers. */
export const TYPE_LABEL = "io.kubernetes.docker.type";
/** The sandbox a container belongs to (cri-dockerd's key). */
export const SANDBOX_ID_LABEL = "io.kubernetes.sandbox.id";
/** The CRI metadata (JSON) as kubelet gave it: names may hold underscores, so the name is not parsed back. */
export const METADATA_LABEL = "io.wharf.cri.metadata";
/** The image as the CreateContainer request named it. */
export const IMAGE_LABEL = "io.wharf.cri.image";
/** The container's log path as kubelet gave it (log_directory + log_path). */
export const LOG_PATH_LABEL = "io.wharf.cri.log-path";
/** Annotations are kept as labels under this prefix, as cri-dockerd keeps them. */
const ANNOTATION_PREFIX = "annotation.";

export const TYPE_SANDBOX = "podsandbox";
export const TYPE_CONTAINER = "container";

const INTERNAL = new Set([TYPE_LABEL, SANDBOX_ID_LABEL, METADATA_LABEL, IMAGE_LABEL, LOG_PATH_LABEL]);

/** The wharf container name of a pod sandbox. */
export function sandboxName(m: PodSandboxMetadata): string {
  return ["k8s", "POD", m.name, m.namespace, m.uid, String(m.attempt)].join("_");
}

/** The wharf container name of a pod's container. */
export function containerName(m: ContainerMetadata, pod: PodSandboxMetadata): string {
  return ["k8s", m.name, pod.name, pod.namespace, pod.uid, String(m.attempt)].join("_");
}

/** The labels of a wharf container made for CRI: kubelet's, its annotations, and wharf's own keys. */
export function toWharfLabels(
  labels: Record<string, string>,
  annotations: Record<string, string>,
  own: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) out[ANNOTATION_PREFIX + k] = v;
  // kubelet's labels win over an annotation stored under the same key, as in cri-dockerd.
  Object.assign(out, labels, own);
  return out;
}

/** kubelet's labels and annotations back from a wharf container's labels. */
export function fromWharfLabels(all: Record<string, string> | null | undefined): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(all ?? {})) {
    if (INTERNAL.has(k)) continue;
    if (k.startsWith(ANNOTATION_PREFIX)) annotations[k.slice(ANNOTATION_PREFIX.length)] = v;
    else labels[k] = v;
  }
  return { labels, annotations };
}

/** Whether every key of `selector` is in `labels` with the same value (CRI's label_selector). */
export function selects(
  selector: Record<string, string> | null | undefined,
  labels: Record<string, string>,
): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** The metadata label's value parsed, or undefined when missing or broken. */
export function parseMetadata<T>(all: Record<string, string> | null | undefined): T | undefined {
  const raw = all?.[METADATA_LABEL];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
