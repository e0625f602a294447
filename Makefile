# placemap: the one entry point. `make run` serves the default data; `make test` is what CI runs.
SHELL := /bin/bash
DATA ?= $(abspath ../shared/data)
ADDR ?= 127.0.0.1:8080
CARGO ?= cargo
# Where cargo puts binaries (honours CARGO_TARGET_DIR).
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
# One artifact of the workspace's test build (builds it if needed): `main` is the end-to-end test
# binary, `placemap` the server those tests link. Reusing them saves a second build with other
# dependency features (`cargo build` leaves out the dev-dependencies' features).
TEST_ARTIFACT = $(CARGO) test --workspace --no-run --message-format=json-render-diagnostics \
	| python3 $(CURDIR)/tests/scripts/test_artifact.py
# A clean build in CI gains nothing from incremental compilation and pays for its bookkeeping.
ifdef CI
export CARGO_INCREMENTAL := 0
endif

.PHONY: run test e2e ci fmt fmt-check lint doc bench bench-peers bless build e2e-browser bench-server fuzz

build:
	$(CARGO) build --release -p placemap

## The main job: serve maps of the default data (prints the URL).
run: build
	$(TARGET_DIR)/release/placemap serve --addr $(ADDR) --data $(DATA)

## Everything CI checks: formatting, lints, unit + integration + doc tests, browser test. The
## benches are compiled by `lint` (clippy --all-targets) and run by `make bench`.
## The end-to-end tests (placemap-e2e) run as one process, not under nextest: nextest starts one
## process per test, so the state they share (every catalogue layer, loaded by a OnceLock in
## tests/src/lib.rs) would be loaded once per test; run directly, the e2e binary's tests are
## threads of one process, so the layers load once. Every cargo command below selects the whole
## workspace: cargo unifies dependency features over the packages selected, so selecting fewer
## (`-p placemap-e2e`, `-p placemap`) would rebuild shared dependencies with other features.
test: fmt-check lint
	CI=$${CI:-} $(CARGO) nextest run --workspace -E 'not package(placemap-e2e)' --no-fail-fast
	$(MAKE) e2e
	$(CARGO) test --workspace --doc
	$(MAKE) e2e-browser

## The end-to-end tests: the placemap-e2e test binary, built with the workspace's features, run
## once from its package directory (as cargo test would). Arguments for it: E2E_ARGS (a filter).
e2e:
	bin=$$($(TEST_ARTIFACT) main) && cd tests && CI=$${CI:-} "$$bin" $(E2E_ARGS)

## The interactive map, the upload page, and MapLibre GL JS on another origin reading the
## TileJSON, in headless Chromium (system /usr/bin/chromium, no downloads).
e2e-browser:
	bin=$$($(TEST_ARTIFACT) placemap) && \
	cd tests/browser && { [ -d node_modules/playwright-core ] && [ -d node_modules/maplibre-gl ] && [ -d node_modules/axe-core ] || npm ci --no-audit --no-fund; } && \
	  PLACEMAP_BIN="$$bin" node map.test.mjs && \
	  PLACEMAP_BIN="$$bin" node datasets.test.mjs && \
	  PLACEMAP_BIN="$$bin" node maplibre.test.mjs && \
	  PLACEMAP_BIN="$$bin" node publish.test.mjs

## What .ci/run runs: the tests, then the docs with warnings denied.
ci: test doc

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

## The fuzz targets (crates/fuzz-targets, FUZZING.md) for longer than `make test` runs them:
## SCALE times each target's cases (default 20), SEED a number or `random` (default).
fuzz:
	PLACEMAP_FUZZ_SCALE=$${SCALE:-20} PLACEMAP_FUZZ_SEED=$${SEED:-random} \
	  $(CARGO) test -p fuzz-targets --test main -- --nocapture --test-threads 2

## Refresh golden outputs in tests/expected/ (review the diff by eye before committing).
bless:
	PLACEMAP_BLESS=1 $(CARGO) nextest run --workspace -E 'not package(placemap-e2e) and test(golden)'
	PLACEMAP_BLESS=1 $(MAKE) e2e E2E_ARGS=golden

## Criterion benchmarks on the real data (placemap's side of BENCHMARKS.md).
bench:
	$(CARGO) bench --workspace

## The peers' side of BENCHMARKS.md (Mapnik, GeoPandas, PySAL), measured in the same run.
bench-peers: build
	bash ../shared/bench/prep_peers.sh
	python3 bench/startup_geopandas.py $(DATA) 5
	/usr/bin/python3 ../shared/bench/mapnik_tiles.py /tmp/placemap-bench/lad19_3857.shp 5 10 120
	/usr/bin/python3 ../shared/bench/mapnik_tiles.py /tmp/placemap-bench/lsoa11_3857.shp 5 10 120
	python3 ../shared/bench/geopandas_lookup.py $(DATA)/lad_2019_uk_generalised_wgs84.geojson lad19cd 1000000
	python3 ../shared/bench/geopandas_lookup.py $(DATA)/lsoa_2011_england_generalised_wgs84.geojson lsoa11cd 1000000
	python3 crates/analysis/benches/peer_geopandas_esda.py $(DATA)
	bash bench/static_maps.sh
	bash bench/mvt_gdal.sh

## The server under wrk (cached and uncached tiles) and its memory over a long run (BENCHMARKS.md).
bench-server: build
	bash bench/startup_memory.sh
	bash bench/server_wrk.sh
	bash bench/mvt_wrk.sh
	bash bench/memory.sh
