// The Engine API shapes the pages read, re-exported from the one place the project declares them.
export type {
  ContainerInspectResponse,
  ContainerSummary,
  ContainerTopResponse,
  DiskUsage,
  EventMessage,
  FilesystemChange,
  ImageHistoryResponseItem,
  ImageInspect,
  ImageSummary,
  NetworkResource as Network,
  SystemInfo,
  SystemVersion,
  Volume,
  VolumeListResponse,
} from "../../apitypes/index.ts";
export type { Sample } from "../sample.ts";
