# rtsp2hls — `make run` to try it, `make test` to test it.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
HLSJS     := player/assets/hls.min.js

.PHONY: build run test test-short bench vet fmt clean

build: $(HLSJS)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/rtsp2hls ./cmd/rtsp2hls

# hls.js comes from npm (exact version in player/package-lock.json) and is
# embedded in the binary; the copy is not committed.
$(HLSJS): player/package-lock.json
	cd player && npm ci --no-audit --no-fund --loglevel=error
	cp player/node_modules/hls.js/dist/hls.min.js $(HLSJS)

e2e/browser/node_modules: e2e/browser/package-lock.json
	cd e2e/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: build
	./bin/rtsp2hls -config config.yml

# Every test: unit, integration and end to end (real ffmpeg, GStreamer and
# Chromium; they skip when missing, except under CI=true).
test: build e2e/browser/node_modules
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...
	cd third_party/gohlslib && $(GO) vet ./... && $(GO) test -race -count=1 ./...  # the patched gohlslib, a module of its own

# Unit tests only, fast.
test-short: $(HLSJS)
	$(GO) test -short -count=1 ./...

# Benchmarks print figures (see BENCHMARKS.md); the fuzzers get minutes.
# The wall's figures: 9 and 16 tiles over HTTP/1.1 and HTTP/2, 60 s each in
# headless Chromium (TestWallBench, about 7 minutes).
bench: build e2e/browser/node_modules
	$(GO) test -run '^$$' -bench . -benchmem ./...
	RTSP2HLS_BENCH=1 $(GO) test -count=1 -v -run '^TestWallBench$$' -timeout 20m ./e2e
	$(GO) run ./bench/viewers -bin bin/rtsp2hls -k 500,1000,2000 -d 20s  # LL-HLS viewers of one camera, about 80 s
	RTSP2HLS_BENCH=1 $(GO) test -count=1 -v -run '^TestLatencyBench$$' -timeout 15m ./e2e  # capture-to-display latency, 2 x 60 s
	RTSP2HLS_BENCH=1 $(GO) test -count=1 -v -run '^TestEdgeBench$$' -timeout 20m ./e2e  # nginx edge, 2 x 5 K x 20 s (needs nginx)
	RTSP2HLS_BENCH=1 $(GO) test -count=1 -v -run '^TestCamerasBench$$' -timeout 30m ./e2e  # CPU, RSS per 1080p camera at 0/50/100/200, about 5 min
	$(MAKE) fuzz-long

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(HLSJS) player/node_modules e2e/browser/node_modules

# Fuzzing. go test -fuzz runs one target per invocation, so each target of
# FUZZ (package:Target) gets its own run of FUZZTIME. fuzz-short (10 s each)
# is the CI smoke run; fuzz-long (2 min each) is for a change to the parsers.
# A failing input is saved in the package's testdata/fuzz/FuzzXxx/: commit it
# with the fix, and every `go test` replays it from then on (with the seeds
# there). FUZZMINIMIZE bounds the time spent shrinking each new input, which
# otherwise eats short runs.
FUZZ         := ingest:FuzzAnnexBSplit ingest:FuzzAUSplitter ingest:FuzzSDP \
                segmenter:FuzzParameterSetInsertion
FUZZTIME     ?= 10s
FUZZMINIMIZE ?= 2s

.PHONY: fuzz-short fuzz-long
fuzz-short:
	@set -e; for t in $(FUZZ); do \
		echo "== $${t#*:} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) \
			-fuzzminimizetime $(FUZZMINIMIZE) ./$${t%%:*}; \
	done

fuzz-long:
	$(MAKE) fuzz-short FUZZTIME=2m FUZZMINIMIZE=10s
