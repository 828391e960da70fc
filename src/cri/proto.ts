/**
 * The CRI v1 messages wharf serves, written for wharf in protobuf's text form. The field names and numbers
 * are the wire format of cri-api v0.29 (what kubelet 1.29 and crictl send); only the messages of the methods
 * served here are declared, with what they reference. Fields of Windows and of features wharf does not
 * serve are left out: the decoder skips fields it does not know, so a peer sending them is not refused.
 */
import { CONTAINER_PROTO } from "./proto-container.ts";
import { IMAGE_PROTO } from "./proto-image.ts";
import { POD_PROTO } from "./proto-pod.ts";
import { STATS_PROTO } from "./proto-stats.ts";

/** The services, the messages shared by name, and every message file: the text codec.ts parses. */
export const CRI_PROTO = [
  `
syntax = "proto3";
package runtime.v1;

service RuntimeService {
  rpc Version(VersionRequest) returns (VersionResponse);
  rpc RunPodSandbox(RunPodSandboxRequest) returns (RunPodSandboxResponse);
  rpc StopPodSandbox(PodSandboxIdRequest) returns (Empty);
  rpc RemovePodSandbox(PodSandboxIdRequest) returns (Empty);
  rpc PodSandboxStatus(PodSandboxStatusRequest) returns (PodSandboxStatusResponse);
  rpc ListPodSandbox(ListPodSandboxRequest) returns (ListPodSandboxResponse);
  rpc CreateContainer(CreateContainerRequest) returns (CreateContainerResponse);
  rpc StartContainer(ContainerIdRequest) returns (Empty);
  rpc StopContainer(StopContainerRequest) returns (Empty);
  rpc RemoveContainer(ContainerIdRequest) returns (Empty);
  rpc ListContainers(ListContainersRequest) returns (ListContainersResponse);
  rpc ContainerStatus(ContainerStatusRequest) returns (ContainerStatusResponse);
  rpc UpdateContainerResources(UpdateContainerResourcesRequest) returns (Empty);
  rpc ReopenContainerLog(ContainerIdRequest) returns (Empty);
  rpc ExecSync(ExecSyncRequest) returns (ExecSyncResponse);
  rpc Exec(ExecRequest) returns (UrlResponse);
  rpc Attach(AttachRequest) returns (UrlResponse);
  rpc PortForward(PortForwardRequest) returns (UrlResponse);
  rpc ContainerStats(ContainerIdRequest) returns (ContainerStatsResponse);
  rpc ListContainerStats(ListContainerStatsRequest) returns (ListContainerStatsResponse);
  rpc PodSandboxStats(PodSandboxIdRequest) returns (PodSandboxStatsResponse);
  rpc ListPodSandboxStats(ListPodSandboxStatsRequest) returns (ListPodSandboxStatsResponse);
  rpc UpdateRuntimeConfig(UpdateRuntimeConfigRequest) returns (Empty);
  rpc Status(StatusRequest) returns (StatusResponse);
  rpc RuntimeConfig(Empty) returns (RuntimeConfigResponse);
}

service ImageService {
  rpc ListImages(ListImagesRequest) returns (ListImagesResponse);
  rpc ImageStatus(ImageStatusRequest) returns (ImageStatusResponse);
  rpc PullImage(PullImageRequest) returns (PullImageResponse);
  rpc RemoveImage(ImageSpecRequest) returns (Empty);
  rpc ImageFsInfo(Empty) returns (ImageFsInfoResponse);
}

// Requests and responses that differ only in name on the wire share one message here: the wire carries
// field numbers, never message names.
message Empty {}
message PodSandboxIdRequest { string pod_sandbox_id = 1; }
message ContainerIdRequest { string container_id = 1; }
message ImageSpecRequest { ImageSpec image = 1; }
message UrlResponse { string url = 1; }

message VersionRequest { string version = 1; }
message VersionResponse {
  string version = 1;
  string runtime_name = 2;
  string runtime_version = 3;
  string runtime_api_version = 4;
}
`,
  POD_PROTO,
  CONTAINER_PROTO,
  STATS_PROTO,
  IMAGE_PROTO,
].join("\n");
