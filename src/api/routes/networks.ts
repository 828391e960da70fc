import type {
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkDisconnectRequest,
  NetworkResource,
} from "../../apitypes/index.ts";
import { InvalidParameterError } from "../../errdefs/index.ts";
import { qFilters } from "../query.ts";
import { networkConnectShape, networkCreateShape, networkDisconnectShape } from "../requests.ts";
import { compareVersions, type Route, route } from "../router.ts";
import { validateBody } from "../validate.ts";

/** What the network routes need from the network service. */
export interface NetworkBackend {
  /** `allowDuplicateName`: a second network of an existing name is made, with a warning (API < 1.44). */
  create(
    req: NetworkCreateRequest,
    opts?: { allowDuplicateName?: boolean },
  ): Promise<{ Id: string; Warning: string }>;
  list(filters: Record<string, string[]>): NetworkResource[];
  inspect(ref: string): NetworkResource;
  remove(ref: string): Promise<void>;
  prune(filters: Record<string, string[]>): Promise<{ NetworksDeleted: string[] }>;
  connect(ref: string, req: NetworkConnectRequest): Promise<void>;
  disconnect(ref: string, req: NetworkDisconnectRequest): Promise<void>;
}

/** Routes of /networks. */
export function networkRoutes(b: NetworkBackend): Route[] {
  return [
    route.get("/networks", (ctx) => ctx.sendJson(200, b.list(qFilters(ctx.query)))),
    route.post("/networks/create", async (ctx) => {
      const body = await ctx.jsonBody<NetworkCreateRequest>();
      validateBody(networkCreateShape, body, "NetworkCreateRequest");
      if (!body) throw new InvalidParameterError("network config cannot be empty");
      // Before API 1.44 dockerd made a second network of a taken name unless the request said
      // CheckDuplicate: true (docker-py leaves it out); 1.44 made names unique whatever the field says.
      const allowDuplicateName = compareVersions(ctx.version, "1.44") < 0 && body.CheckDuplicate !== true;
      ctx.sendJson(201, await b.create(body, { allowDuplicateName }));
    }),
    route.post("/networks/prune", async (ctx) => ctx.sendJson(200, await b.prune(qFilters(ctx.query)))),
    route.get("/networks/{id}", (ctx) => ctx.sendJson(200, b.inspect(ctx.params.id))),
    route.delete("/networks/{id}", async (ctx) => {
      await b.remove(ctx.params.id);
      ctx.sendStatus(204);
    }),
    route.post("/networks/{id}/connect", async (ctx) => {
      const body = await ctx.jsonBody<NetworkConnectRequest>();
      validateBody(networkConnectShape, body, "NetworkConnect");
      if (!body) throw new InvalidParameterError("container is required");
      await b.connect(ctx.params.id, body);
      ctx.sendStatus(200);
    }),
    route.post("/networks/{id}/disconnect", async (ctx) => {
      const body = await ctx.jsonBody<NetworkDisconnectRequest>();
      validateBody(networkDisconnectShape, body, "NetworkDisconnect");
      if (!body) throw new InvalidParameterError("container is required");
      await b.disconnect(ctx.params.id, body);
      ctx.sendStatus(200);
    }),
  ];
}
