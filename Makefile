# Front door. `make demo` and `make test` install dependencies when needed, configure into
# build/, build, then run.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo example-report test test-slow bench experiment clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

# Verifies every statement, then writes the report with the drawn counterexamples.
demo: build
	./$(BUILD)/bcq demo
	./$(BUILD)/bcq report --runs bcq-demo -o bcq-demo --title "bcq verification report" --quiet
	@echo "Report: $(CURDIR)/bcq-demo/index.html"

# The committed example report, rebuilt from the committed results under reports/example/
# only (byte for byte the same on a rerun).
EXAMPLE_INPUTS = $(wildcard reports/example/demo reports/example/hopper-quick reports/example/tabular)
example-report: build
	rm -rf reports/example/plots
	./$(BUILD)/bcq report --runs $(EXAMPLE_INPUTS) -o reports/example --title "bcq example report" --quiet
	@echo "Report: reports/example/index.html"

# Default suite: everything not labelled `slow`.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# Long training / 10,000-case property runs.
test-slow: build
	cd $(BUILD) && ctest --output-on-failure -j 1 -L slow

bench: build
	bash scripts/run-benchmarks.sh $(BUILD)

# The quick study (Hopper, 4 batch kinds, 4 algorithms, 3 seeds; ~100 min on 2 cores with two
# workers), resuming where it stopped: experiments/hopper-quick/ (docs/study.md).
STUDY_WORKERS ?= 2
experiment: build
	./$(BUILD)/bcq study run --profile quick --out experiments/hopper-quick --workers $(STUDY_WORKERS)

clean:
	rm -rf $(BUILD)
