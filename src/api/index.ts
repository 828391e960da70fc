/** The Engine API front end: the router, the HTTP server, and each resource's route table with the backend it needs. */
export { API_VERSION, MIN_API_VERSION, type Route, Router } from "./router.ts";
export { type BuildBackend, buildRoutes } from "./routes/build.ts";
export { buildkitRoutes } from "./routes/buildkit.ts";
export { containerRoutes } from "./routes/containers.ts";
export { distributionRoutes } from "./routes/distribution.ts";
export { execRoutes } from "./routes/exec.ts";
export { imageRoutes } from "./routes/images.ts";
export { networkRoutes } from "./routes/networks.ts";
export { superviseRoutes } from "./routes/supervise.ts";
export { systemRoutes } from "./routes/system.ts";
export { volumeRoutes } from "./routes/volumes.ts";
export { ApiServer } from "./server.ts";
