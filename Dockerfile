# syntax=docker/dockerfile:1
# The base image is a build argument: a public Node 24 image by default. `npm run image` on a machine
# with no Docker engine builds with buildah from a local base made of Debian packages and the Node 24
# binary the project pins (scripts/image-base.sh); the same Dockerfile serves both.
ARG BASE=docker.io/library/node:24-bookworm-slim

FROM ${BASE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: no toolchain, no test tools. None of them runs install scripts. Behind a
# TLS-inspecting proxy, pass its CA as the build secret "ca" (it is mounted for this step, never stored).
RUN --mount=type=secret,id=ca \
    if [ -f /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf /root/.npm

FROM ${BASE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY crds ./crds
# Node 24 runs the TypeScript sources as they are (type stripping): what runs is what the tests ran.
COPY src ./src
# Non-root, with no home to write to: the chart also mounts the root filesystem read-only.
USER 65532:65532
# Small young-generation spaces and a capped heap: 232 MiB RSS at 10,000 cached Deployments against 550 MiB
# with Node's defaults (docs/benchmarks.md). Raise the cap for much larger clusters.
ENV NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=192"
ENTRYPOINT ["node", "/app/src/cli/main.ts"]
CMD ["run"]
