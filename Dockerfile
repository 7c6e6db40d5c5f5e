# syntax=docker/dockerfile:1
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the node@24 devDependency (the toolchain pin) stays out.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY crds ./crds
USER 65532:65532
ENV NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=192"
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
