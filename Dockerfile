# syntax=docker/dockerfile:1
# One image for the four services, the admin CLI (migrations, topics) and the helm test:
#   docker build -t streamguard:0.1.0 .
#   docker run streamguard:0.1.0 dist/apps/enrich/src/main.js      (the default command runs ingest)
# The Helm chart and k8s/manifests pass the entry point as the container args.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed to compile (swc ships its binary as a platform package). `npm install`, not
# `npm ci`: npm 11 lockfiles here omit other platforms' optional packages, which `npm ci` rejects.
RUN npm install --ignore-scripts --no-audit --no-fund
COPY .swcrc tsconfig.json tsconfig.base.json ./
COPY apps apps
COPY libs libs
COPY tools tools
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
# Matches the chart's securityContext (runAsNonRoot, readOnlyRootFilesystem with an emptyDir on /tmp).
USER 10001:10001
EXPOSE 8080 8081 8082 8083
# node as PID 1: the services handle SIGTERM themselves (drain within SHUTDOWN_GRACE_MS, then exit).
ENTRYPOINT ["node"]
CMD ["dist/apps/ingest/src/main.js"]
