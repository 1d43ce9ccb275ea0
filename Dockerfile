# syntax=docker/dockerfile:1
# One image for the four services, the admin CLI (migrations, topics) and the helm test:
#   docker build -t streamguard:0.1.0 .
#   docker run streamguard:0.1.0 dist/apps/enrich/src/main.js      (the default command runs ingest)
# The Helm chart and k8s/manifests pass the entry point as the container args.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG BUILD_IMAGE=node:24-bookworm

# The full image: a C/C++ toolchain for the Kafka client's native part (librdkafka), built by our postinstall
# (tools/native/build-kafka-client.cjs, which apt-installs the -dev packages it lacks). `npm install`, not
# `npm ci`: npm 11 lockfiles here omit other platforms' optional packages, which `npm ci` rejects.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY tools/native tools/native
RUN npm install --no-audit --no-fund
COPY .swcrc tsconfig.json tsconfig.base.json ./
COPY apps apps
COPY libs libs
COPY tools tools
# Keep the built binding and librdkafka's shared libraries; drop librdkafka's sources and object files (~250 MB).
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@confluentinc/kafka-javascript/deps node_modules/@confluentinc/kafka-javascript/src \
      node_modules/@confluentinc/kafka-javascript/build/Release/obj.target node_modules/@confluentinc/kafka-javascript/build/Release/.deps

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# The shared libraries librdkafka is linked against (dynamically: CKJS_LINKING=dynamic).
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 libsasl2-2 libzstd1 zlib1g libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
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
