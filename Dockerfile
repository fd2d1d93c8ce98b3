# rtsp2hls container image.
#
#   docker build -t rtsp2hls .
#   docker run -p 8080:8080 -v $PWD/config.yml:/etc/rtsp2hls/config.yml:ro rtsp2hls
#
# For RTSP over UDP from cameras, run with --network host (RTP arrives on
# ports the camera picks), or set `transport: tcp` on the cameras.

# hls.js from npm, the exact version of player/package-lock.json.
FROM node:20-bookworm-slim AS hlsjs
WORKDIR /src/player
COPY player/package.json player/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# The Go build: a static binary with the web player embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces gohlslib with the patched copy in third_party/gohlslib:
# its go.mod is needed to resolve the modules (the rest comes with COPY . .).
COPY third_party/gohlslib/go.mod third_party/gohlslib/go.sum third_party/gohlslib/
RUN go mod download
COPY . .
COPY --from=hlsjs /src/player/node_modules/hls.js/dist/hls.min.js player/assets/hls.min.js
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rtsp2hls ./cmd/rtsp2hls

# Runtime: no shell, no package manager, not root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rtsp2hls /usr/local/bin/rtsp2hls
COPY config.yml /etc/rtsp2hls/config.yml
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/rtsp2hls", "-config", "/etc/rtsp2hls/config.yml"]
