# One image for every Conduit app; the compose file picks the app with APP.
# Stage 1 installs exactly the locked dependencies and generates the Prisma client.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/scheduler/package.json apps/scheduler/
COPY apps/sandbox/package.json apps/sandbox/
COPY packages/ packages/
COPY prisma/ prisma/
COPY prisma.config.ts tsconfig.base.json tsconfig.json ./
RUN npm ci --no-audit --no-fund

# Stage 2: the runtime. TypeScript runs through tsx; there is no separate build output to drift.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
COPY --from=deps /app/node_modules node_modules
COPY . .
COPY --from=deps /app/packages/db/src/generated packages/db/src/generated
USER node
ENV APP=api NODE_FLAGS=""
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sh", "-c", "exec node ${NODE_FLAGS} --import tsx apps/${APP}/src/main.ts"]
