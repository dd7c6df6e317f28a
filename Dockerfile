# kafka-archive container image.
#
#   docker build -t kafka-archive .
#   docker run --rm -e KAFKA_ARCHIVE_KAFKA__BROKERS=broker:9092 \
#     -e KAFKA_ARCHIVE_ARCHIVER__TOPIC_PATTERNS='orders\..*' \
#     -v kafka-archive-data:/var/lib/kafka-archive kafka-archive
#
# Configuration comes from KAFKA_ARCHIVE_* environment variables (README, "Configuration") or a
# YAML file mounted into the container and passed with `--config <file>`.
#
# Debian (glibc) base images: the native dependencies (lz4-napi, snappy) ship
# prebuilt linux-x64 and linux-arm64 glibc binaries. Install scripts are not needed by any
# production dependency nor by the TypeScript build, so npm runs with --ignore-scripts.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- prod-deps: production node_modules only ----
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="kafka-archive" \
      org.opencontainers.image.description="Long-term event archive for Apache Kafka: Parquet segments" \
      org.opencontainers.image.licenses="Apache-2.0"
# One data root on the volume: the hot tier, catalog, local cold tier and disk history all
# default to directories under it, so re-creating the container loses nothing. Node's compile
# cache (bin/kafka-archive.js: a quicker start) lives there too, not in /tmp.
ENV NODE_ENV=production \
    KAFKA_ARCHIVE_DATA_DIR=/var/lib/kafka-archive \
    NODE_COMPILE_CACHE=/var/lib/kafka-archive/node-compile-cache
WORKDIR /app
# Application files stay owned by root (read-only for the service user).
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
# The data root: created here so a new named volume inherits the node user's ownership.
RUN mkdir -p /var/lib/kafka-archive && chown node:node /var/lib/kafka-archive
USER node
VOLUME ["/var/lib/kafka-archive"]
ENTRYPOINT ["node", "/app/bin/kafka-archive.js"]
CMD ["run"]
