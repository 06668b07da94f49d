# syntax=docker/dockerfile:1
# atomicflow's container image: the worker, the starter (CLI, HR receiver `starter listen`, codec
# server `starter codec-server`) and the simulator awsim, as static binaries in a distroless
# non-root image. No secret is baked in: keys come from the environment at run time.
#
#   docker build -t atomicflow:local .
#   docker run --rm atomicflow:local /usr/local/bin/starter --help
#
# docker-compose.yml builds it and runs one binary per service.

# --- build: static binaries (CGO off), module downloads cached separately from the sources ---
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/ ./worker ./starter ./awsim

# --- runtime: no shell, no package manager, runs as nonroot (uid 65532) ---
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /out/starter /out/awsim /usr/local/bin/
# The example provisioning policy; mount your own over it (ATOMICFLOW_POLICY_FILE names it).
COPY examples/policy.yaml /etc/atomicflow/policy.yaml
USER nonroot:nonroot
# codec server, HR receiver, simulator, worker metrics
EXPOSE 8081 8089 8090 9090
CMD ["/usr/local/bin/worker"]
