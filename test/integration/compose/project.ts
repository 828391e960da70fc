// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose templates in test files
/**
 * The issue's project, shared by the wharf compose and docker-compose 1.29 tests: init fills a named volume,
 * db (env from .env) serves it over TCP and turns healthy, app is built from a Dockerfile, web waits for db to
 * be healthy and reads from it by service name.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The services, without a top-level name (docker-compose 1.29 takes it from -p). */
export const SERVICES = `
services:
  init:
    image: busybox
    command: ["sh", "-c", "echo seeded > /data/seed"]
    volumes: [data:/data]
  db:
    image: busybox
    command: ["sh", "-c", "echo db up; nc -ll -p 5432 -e cat /data/seed & sleep 0.3; touch /tmp/ready; wait"]
    volumes: [data:/data]
    environment:
      DB_MODE: \${DB_MODE}
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 100ms
      retries: 20
    depends_on:
      init: {condition: service_completed_successfully}
  app:
    build:
      context: ./app
      dockerfile: docker/App.Dockerfile
      target: final
      args: {FLAVOUR: vanilla}
      labels: {shop.built: "yes"}
    command: ["sh", "-c", "cat /flavour /version; exec sleep 1000"]
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sh", "-c", "echo hello from web $$GREETING; echo web got $$(nc db 5432); exec sleep 1000"]
    environment: ["GREETING=\${GREETING:-nobody}"]
    stop_grace_period: 1s
    depends_on:
      db: {condition: service_healthy}
      app: {condition: service_started}
volumes:
  data: {}
`;

/** Writes compose.yaml (with `name:` when given), .env and the app's build context into `dir`. */
export async function writeProject(dir: string, opts: { name?: string } = {}): Promise<void> {
  await writeFile(join(dir, "compose.yaml"), `${opts.name ? `name: ${opts.name}\n` : ""}${SERVICES}`);
  await writeFile(join(dir, ".env"), "GREETING=world\nDB_MODE=primary\n");
  await mkdir(join(dir, "app/docker"), { recursive: true });
  await writeFile(
    join(dir, "app/docker/App.Dockerfile"),
    [
      "FROM busybox AS base",
      "ARG FLAVOUR=plain",
      "RUN echo $FLAVOUR > /flavour",
      "FROM base AS final",
      "COPY version /version",
      "COPY . /ctx/",
      "FROM final AS unused",
      "RUN exit 1",
    ].join("\n"),
  );
  await writeFile(join(dir, "app/version"), "v1\n");
  await writeFile(join(dir, "app/secret.key"), "never sent\n");
  await mkdir(join(dir, "app/node_modules/dep"), { recursive: true });
  await writeFile(join(dir, "app/node_modules/dep/index.js"), "never sent\n");
  // The Dockerfile's own directory is ignored too: it is sent all the same, as the docker CLI does.
  await writeFile(join(dir, "app/.dockerignore"), "*.key\nnode_modules\ndocker\n");
}
