# The reelrank trainer (`reelrank retrain` and the other CLI commands), CPU build: Node 20 slim.
#   docker build -t reelrank-trainer .
#   docker run --rm -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_ENDPOINT_URL -e AWS_REGION=auto \
#     reelrank-trainer retrain --to s3://reelrank-artifacts --events s3://reelrank-events/events
#
# GPU variant (documented, not built here): TF.js dense towers on CUDA. @tensorflow/tfjs-node-gpu
# 4.22 needs CUDA 11.2 + cuDNN 8.1 and downloads libtensorflow at install time (network needed then):
#   docker build -t reelrank-trainer:gpu --build-arg BASE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 \
#     --build-arg GPU=1 .
#   docker run --gpus all ... reelrank-trainer:gpu retrain ...
# The sparse models (MF, SVD++, iALS) run on typed arrays on the CPU either way; the backend module
# (train/backend.ts) picks tfjs-node-gpu at run time when it loads.
ARG BASE=node:20-slim
FROM ${BASE}
ARG GPU=0
# The CUDA base images have no Node: install Node 20 there.
RUN if ! command -v node >/dev/null 2>&1; then \
      apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && \
      curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && \
      apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && if [ "$GPU" = "1" ]; then npm install --no-save --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0; fi
COPY bin ./bin
COPY shared ./shared
COPY train ./train
COPY data ./data
COPY models ./models
USER node
ENTRYPOINT ["node", "bin/reelrank.mjs"]
CMD ["--help"]
