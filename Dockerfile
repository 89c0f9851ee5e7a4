# Warden: `warden serve` (and, with another command, `warden gateway`) on Node 20.
# Build:  docker build -t warden .
# Run:    docker run -p 8080:8080 -v warden-data:/var/lib/warden warden
# docs/deploy.md explains the image, docker-compose.yml and production PostgreSQL.

# 1. build: dev dependencies and the TypeScript compiler; produces dist/.
FROM node:20.20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. deps: production dependencies only.
FROM node:20.20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. runtime: the built CLI, production dependencies, the examples and the config schema; no compiler, no sources.
FROM node:20.20-slim
ENV NODE_ENV=production \
    WARDEN_HOST=0.0.0.0 \
    WARDEN_DATA_DIR=/var/lib/warden/data \
    WARDEN_AUDIT_KEY=/var/lib/warden/audit-key.pem \
    WARDEN_BOOTSTRAP_TOKEN_FILE=/var/lib/warden/bootstrap-token
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY examples ./examples
COPY schemas ./schemas
RUN ln -s /app/bin/warden.js /usr/local/bin/warden \
 && mkdir -p /var/lib/warden /etc/warden \
 && chown node:node /var/lib/warden
# The image's unprivileged user (uid 1000): Warden needs no root, only its data directory.
USER node
VOLUME ["/var/lib/warden"]
EXPOSE 8080 8931
# /healthz answers while the process serves (it skips the Host check); /readyz also checks the database.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.WARDEN_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["warden"]
CMD ["serve"]
