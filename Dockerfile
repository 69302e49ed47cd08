# syntax=docker/dockerfile:1
# One image definition for every deployable of the monorepo:
#   docker build --target runtime   --build-arg SERVICE=token-service -t qbo/token-service .
#   docker build --target simulator --build-arg SERVICE=qbo-simulator \
#     --build-arg WORKSPACE=tools/qbo-simulator -t qbo/qbo-simulator .
#   docker build --target console --build-arg SERVICE=console \
#     --build-arg WORKSPACE=tools/console -t qbo/console .
# SERVICE names the deployable and WORKSPACE its folder (services/<SERVICE> unless given). SERVICE is declared
# before the first FROM so that it can pick the stage listing that deployable's workspace libraries.
ARG SERVICE

# Every package.json of the workspaces plus the lockfile, and nothing else: `npm ci` needs all of them, and
# the install layers below stay cached while only sources change.
FROM node:26.10.0-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /out \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /out/ \; \
 && cp package-lock.json /out/

# Install scripts stay off: the only ones in the lockfile fetch the `node` devDependency's binary (this image
# already is that Node) and protobufjs's, which the project disables too.
FROM node:26.10.0-slim AS deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM deps AS build
ARG SERVICE
ARG WORKSPACE=services/${SERVICE}
COPY . .
# tsc -b follows the project references, so the libraries the workspace imports are compiled too.
RUN test -n "${SERVICE}" && node node_modules/typescript/bin/tsc -b "${WORKSPACE}"

# Production dependencies of one workspace only. Workspace dependencies become symlinks
# (node_modules/@qbo/<lib> -> ../../libs/<lib>), so the image must carry each such library at the same path.
FROM node:26.10.0-slim AS prod-deps
ARG SERVICE
ARG WORKSPACE=services/${SERVICE}
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund -w "${WORKSPACE}"

# The workspace libraries each deployable needs at run time: its package.json dependencies on @qbo/*,
# followed transitively. tools/deploy-check (compose.test.ts) holds these lists to the package.json files.
FROM build AS libs-auth-service
ENV LIBS="event-bus events service-kit token-api"
FROM build AS libs-token-service
ENV LIBS="event-bus events service-kit token-api"
FROM build AS libs-sync-service
ENV LIBS="event-bus events qbo-client service-kit token-api"
FROM build AS libs-webhook-ingest
ENV LIBS="event-bus events service-kit"
FROM build AS libs-qbo-simulator
ENV LIBS="events service-kit"
# The console imports no workspace library (hono and its node server only).
FROM build AS libs-console
ENV LIBS=""

# What the runtime image holds under /app: the production node_modules, and for the workspace and each of its
# libraries its package.json, its compiled dist/ and any node_modules npm nested there (e.g. libs/event-bus/
# node_modules/pg, a version the root does not hoist).
FROM libs-${SERVICE} AS stage
ARG SERVICE
ARG WORKSPACE=services/${SERVICE}
COPY --from=prod-deps /app /prod
RUN set -eu; mkdir -p /out; cp -r /prod/node_modules /out/node_modules; \
    for dir in $(for lib in $LIBS; do printf 'libs/%s ' "$lib"; done) "${WORKSPACE}"; do \
      mkdir -p "/out/${dir}"; \
      cp -r "${dir}/package.json" "${dir}/dist" "/out/${dir}/"; \
      if [ -d "${dir}/public" ]; then cp -r "${dir}/public" "/out/${dir}/"; fi; \
      if [ -d "/prod/${dir}/node_modules" ]; then cp -r "/prod/${dir}/node_modules" "/out/${dir}/"; fi; \
    done; \
    find /out -path '*/dist/*' -not -path '/out/node_modules/*' \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' -o -name '.tsbuildinfo' \) -delete

# The Node runtime without package managers: nothing installs or runs package scripts at run time, and `node`
# is started directly (behind compose's `init: true`), so SIGTERM reaches the service's own shutdown handler.
FROM node:26.10.0-slim AS node-runtime
# kafkajs 2.2.4 schedules negative timeouts, which Node warns about on every connection (behaviour unchanged).
ENV NODE_ENV=production NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg

# A service: the numeric uid of the image's `node` user, so runAsNonRoot (Kubernetes) and compose's
# `user: "1000:1000"` can tell it is not root.
FROM node-runtime AS runtime
ARG SERVICE
COPY --from=stage /out/ /app/
USER 1000:1000
WORKDIR /app/services/${SERVICE}
CMD ["node", "--import", "./dist/telemetry.js", "dist/main.js"]

# The QuickBooks simulator, standing in for Intuit in the local stack (build with SERVICE=qbo-simulator).
FROM node-runtime AS simulator
COPY --from=stage /out/ /app/
USER 1000:1000
WORKDIR /app/tools/qbo-simulator
CMD ["node", "dist/cli.js", "--host", "0.0.0.0"]

# The operator console (build with SERVICE=console WORKSPACE=tools/console): its page (public/), its compiled
# script (dist/web/) and its server.
FROM node-runtime AS console
COPY --from=stage /out/ /app/
USER 1000:1000
WORKDIR /app/tools/console
CMD ["node", "dist/main.js"]
