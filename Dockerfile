# Rein gateway image: multi-stage, runs as a non-root user, health-checked on /healthz.
#
#   docker build -t rein .
#   docker run --rm -p 8080:8080 -e REIN_HOST=0.0.0.0 -v rein-data:/app/data rein \
#     serve --config /app/config/rein.yaml          # with API keys configured, or:
#   docker run ... rein serve --allow-unauthenticated  # only behind an authenticating proxy
#
# CUDA: build with `--build-arg RUNTIME=cuda` to start from an NVIDIA CUDA 12 + cuDNN 9 runtime image
# (onnxruntime-node 1.30's CUDA execution provider needs them) and set `execution_provider: cuda` for the
# model in the config; run with `--gpus all`. The CPU image is the default.
ARG NODE_VERSION=20
ARG RUNTIME=cpu

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY tools ./tools
COPY console ./console
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim AS runtime-cpu

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 AS runtime-cuda
ARG NODE_VERSION
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
  && curl -fsSL https://deb.nodesource.com/setup_${NODE_VERSION}.x | bash - \
  && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*

FROM runtime-${RUNTIME}
ENV NODE_ENV=production REIN_HOST=127.0.0.1 REIN_PORT=8080
WORKDIR /app
RUN groupadd --system rein && useradd --system --gid rein --home /app rein
COPY --from=build --chown=rein:rein /app/node_modules ./node_modules
COPY --from=build --chown=rein:rein /app/dist ./dist
COPY --chown=rein:rein package.json ./
COPY --chown=rein:rein bin ./bin
COPY --chown=rein:rein models ./models
COPY --chown=rein:rein policies ./policies
COPY --chown=rein:rein grammars ./grammars
COPY --chown=rein:rein constraints ./constraints
RUN mkdir -p /app/data && chown rein:rein /app/data
USER rein
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.REIN_PORT||8080)+'/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "bin/rein.js"]
CMD ["serve"]
