// The Engine API shapes the pages read, re-exported from the one place the project declares them.
export type {
  ContainerInspectResponse,
  ContainerSummary,
  ContainerTopResponse,
  EventMessage,
  HistoryResponseItem,
  ImageInspect,
  ImageSummary,
  SystemInfo,
  SystemVersion,
} from "../../api/types.ts";
export type { FilesystemChange, Network, Volume, VolumeListResponse } from "../../client/index.ts";
export type { Sample } from "../sample.ts";
