# syntax=docker/dockerfile:1
#
# One image for both services; pick the process with the command:
#   API (default):  node --max-semi-space-size=8 --max-old-space-size=1024 apps/api/src/main.ts
#                   (the heap flags: docs/batches.md#memory)
#   worker:         node apps/worker/src/main.ts
# The services run their TypeScript unbuilt (Node 24 type stripping), so the image is the
# workspace itself with its node_modules. Workspace packages are pnpm symlinks
# (node_modules/@darkroom/* -> packages/*), which is why the whole /app tree is copied as is:
# Node resolves them to their real paths outside node_modules, where type stripping applies.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# NODE_ENV stays unset here: NODE_ENV=production would make pnpm skip devDependencies.
ENV CI=true
RUN npm install -g pnpm@10
WORKDIR /app
COPY . .
RUN --mount=type=cache,id=darkroom-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Owned by root and read-only to the service user: nothing at runtime writes into /app.
COPY --from=build /app /app
USER node
EXPOSE 3000
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=1024", "apps/api/src/main.ts"]
