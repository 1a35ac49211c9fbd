# latent — the two commands a user needs are `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
DATA ?= /usr/share/datasets/fashion-mnist

.PHONY: all deps build run test sanitize bench fuzz clean

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: see README. Trains, evaluates and samples a model on Fashion-MNIST.
run: build
	@scripts/run.sh $(BUILD)/latent $(DATA)

test:
	@scripts/deps.sh test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize:
	@scripts/deps.sh test
	@cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DLT_SANITIZE=ON >/dev/null
	@cmake --build build-san -j $(JOBS)
	@cd build-san && ASAN_OPTIONS=detect_leaks=1 LT_SANITIZE=1 ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	@scripts/deps.sh test
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b; done

# libFuzzer targets (record framing, tf.Example parser, feature specs) under ASan/UBSan,
# FUZZ_SECONDS each; not part of `make test`. See fuzz/run.sh.
FUZZ_SECONDS ?= 60
fuzz:
	@fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-san build-fuzz

# Installs the program, liblatent (.so and .a), headers, latent.pc, man page and bash
# completion under PREFIX (docs/install.md). `make deb` builds a Debian package in $(BUILD).
PREFIX ?= /usr/local
.PHONY: install deb
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

deb: build
	@cd $(BUILD) && cpack -G DEB
