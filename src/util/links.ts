/**
 * A legacy link as HostConfig.Links and EndpointSettings.Links hold it: `name`, `name:alias`, or dockerd's
 * inspect form `/name:/parent/alias`. The container is named by name or ID; the alias is the last path part.
 */
export function parseLink(link: string): { target: string; alias: string } {
  const i = link.indexOf(":");
  const target = (i < 0 ? link : link.slice(0, i)).replace(/^\//, "");
  const aliasPath = i < 0 ? target : link.slice(i + 1);
  return { target, alias: aliasPath.slice(aliasPath.lastIndexOf("/") + 1) };
}
