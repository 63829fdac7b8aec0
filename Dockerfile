# The SMTP listener image: Node 24 runs listener/main.ts directly (type stripping), as the non-root "node" user.
# Built by `cdk deploy` (infra/constructs/listener.ts) for linux/arm64; .dockerignore keeps the context to what runs.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only, exactly as locked; the pinned Node binaries (optional dependencies)
# are not needed here: the image brings its own Node 24.
RUN npm ci --omit=dev --omit=optional --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY core ./core
COPY adapters ./adapters
COPY listener ./listener
# Ports below 1024 need root; the task binds 10025/10587/10465 and the load balancer maps 25/587/465 to them.
USER node
EXPOSE 10025 10587 10465 8025
STOPSIGNAL SIGTERM
CMD ["node", "listener/main.ts"]
