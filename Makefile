# tokenpair — the two commands: `make run` and `make test`. Everything else is a piece of them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# One shared build directory outside the clone, for every crate and every run.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/tokenpair/target
# wasm-opt from npm's binaryen first (see scripts/setup.sh), then cargo-installed tools.
export PATH := $(HOME)/.cache/tokenpair/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

SERVER_BIN := $(CARGO_TARGET_DIR)/release/tokenpair-server
PORT ?= 8080
CLUSTER_PORT ?= 8443

PREFIX ?= /usr/local
DESTDIR ?=
# Copies into system directories need root; a DESTDIR (packaging, tests) does not.
SUDO := $(if $(DESTDIR),,$(if $(filter 0,$(shell id -u)),,sudo))

.PHONY: help setup setup-run spa server run cluster dev install test test-native test-wasm e2e bench size screenshots fmt lint clean

help:
	@echo "make run        build everything (installing tools the first time) and serve http://localhost:$(PORT)"
	@echo "                (another port: make run PORT=9000; demo accounts user1/password1, user2/password2)"
	@echo "make test       lint, native tests (api, server), browser tests (wasm-pack), end-to-end tests (Chromium)"
	@echo "make dev        API on :3000 for 'trunk serve' (which serves the SPA on :8080 and proxies /api)"
	@echo "make cluster    PostgreSQL + two instances + nginx with TLS (HTTP/2) on https://localhost:$(CLUSTER_PORT)"
	@echo "make install    after 'make spa server': the server, dist/ and a hardened systemd unit under PREFIX=$(PREFIX)"
	@echo "make setup-run  only install what running needs;  make setup  also what the tests need"
	@echo "pieces: spa server test-native test-wasm e2e bench size screenshots fmt lint clean"

# Everything the tests need (Chromium, chromedriver, wasm-pack, axe-core, …).
setup:
	@bash scripts/setup.sh test

# Only what running needs (trunk, wasm-bindgen, wasm-opt, terser, compressors).
setup-run:
	@bash scripts/setup.sh run

spa: setup-run
	trunk build --release
	@bash scripts/compress-dist.sh dist

server:
	cargo build --release -p tokenpair-server --bin tokenpair-server

# Installs what running needs, builds both in release (an estimate before each long step, its
# measured time after), then serves the SPA and the API from one process.
run:
	@PORT=$(PORT) bash scripts/run.sh

# PostgreSQL (throwaway), two instances on it, nginx with TLS round-robin in front; Ctrl-C
# stops all. CLUSTER_HOST=name for another host name (its certificate names it).
cluster: spa server
	TOKENPAIR_PG_DURABLE=1 CLUSTER_PORT=$(CLUSTER_PORT) bash scripts/pg.sh bash scripts/cluster.sh

dev:
	cargo run -p tokenpair-server -- --port 3000 --demo-users

# The release server, the built SPA, the systemd unit and (once) its settings file:
#   $(PREFIX)/bin/tokenpair-server, $(PREFIX)/share/tokenpair/dist/, /etc/systemd/system/
#   tokenpair.service, /etc/tokenpair/env. Run as yourself after `make spa server`: the
#   copies use sudo. Then: sudoedit /etc/tokenpair/env; sudo systemctl enable --now tokenpair
install:
	@test -x "$(SERVER_BIN)" && test -f dist/index.html || { \
	  echo "make install: build first, as yourself: make spa server (looked for $(SERVER_BIN) and dist/index.html)" >&2; exit 1; }
	$(SUDO) install -D -m 755 "$(SERVER_BIN)" "$(DESTDIR)$(PREFIX)/bin/tokenpair-server"
	$(SUDO) rm -rf "$(DESTDIR)$(PREFIX)/share/tokenpair/dist"
	$(SUDO) mkdir -p "$(DESTDIR)$(PREFIX)/share/tokenpair"
	$(SUDO) cp -R dist "$(DESTDIR)$(PREFIX)/share/tokenpair/dist"
	sed 's#/usr/local/#$(PREFIX)/#g' deploy/tokenpair.service > "$(CURDIR)/.tokenpair.service.tmp"
	$(SUDO) install -D -m 644 "$(CURDIR)/.tokenpair.service.tmp" "$(DESTDIR)/etc/systemd/system/tokenpair.service"
	@rm -f "$(CURDIR)/.tokenpair.service.tmp"
	@if [ -e "$(DESTDIR)/etc/tokenpair/env" ]; then echo "kept $(DESTDIR)/etc/tokenpair/env"; \
	 else $(SUDO) install -D -m 600 deploy/tokenpair.env.example "$(DESTDIR)/etc/tokenpair/env"; fi
	@echo "installed; next: sudoedit /etc/tokenpair/env && sudo systemctl daemon-reload && sudo systemctl enable --now tokenpair"

test: setup
	@bash scripts/test.sh all

test-native:
	@bash scripts/test.sh native

test-wasm: setup
	@bash scripts/test.sh wasm

e2e: spa server
	@bash scripts/test.sh e2e

# /api/me and rotations on SQLite and on PostgreSQL (throwaway, durable settings), beside a
# bare axum handler; then table growth after 20,000 rotations; then reload → protected view in
# Chromium (a report: e2e/examples/reload_timing.rs).
bench: spa
	cargo build --release -p tokenpair-server -p tokenpair-bench --bins
	TOKENPAIR_PG_DURABLE=1 bash scripts/pg.sh $(CARGO_TARGET_DIR)/release/tokenpair-bench
	TOKENPAIR_DIST=$(CURDIR)/dist cargo run -q -p tokenpair-e2e --example reload_timing

# Re-takes docs/screenshots/*.png (the README's and docs/how-it-works.md's images) with the e2e harness.
screenshots: spa server
	TOKENPAIR_SCREENSHOTS=$(CURDIR)/docs/screenshots TOKENPAIR_DIST=$(CURDIR)/dist cargo run -q -p tokenpair-e2e --example screenshots

size: spa
	@bash scripts/size.sh dist

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy -p tokenpair-api -p tokenpair-server -p tokenpair-testkit -p tokenpair-bench -p tokenpair-e2e --all-targets -- -D warnings
	cargo clippy -p tokenpair -p tokenpair-client --target wasm32-unknown-unknown --all-targets -- -D warnings
	cargo package -p tokenpair-api -p tokenpair-client --allow-dirty
	bash scripts/check-links.sh

clean:
	rm -rf dist
