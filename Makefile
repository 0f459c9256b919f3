# Front door. `make demo` and `make test` install dependencies when needed, configure into
# build/, build, then run.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo test test-slow bench experiment clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/bcq demo

# Default suite: everything not labelled `slow`.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# Long training / 10,000-case property runs.
test-slow: build
	cd $(BUILD) && ctest --output-on-failure -j 1 -L slow

bench: build
	bash scripts/run-benchmarks.sh $(BUILD)

# The README's InvertedPendulum report (~30 min): experiments/inverted-pendulum/report/
experiment: build
	bash scripts/experiment-inverted-pendulum.sh experiments/inverted-pendulum $(BUILD)

clean:
	rm -rf $(BUILD)
