# Front door. `make demo` and `make test` install dependencies when needed, configure into
# build/, build, then run.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo example-report test test-slow test-asan bench experiment export-experiment clean mutate

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

# The sanitizer job: the tabular modules, the CLI parts without LibTorch, the reports and the
# HDF5 buffers built with AddressSanitizer + UBSan (CMakePresets.json "asan"), their default
# tests run with leak detection.
test-asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

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

# The quick study's small result files into reports/example/hopper-quick/ (the input of
# make example-report): no buffers, checkpoints or policies.
export-experiment:
	bash scripts/export-study.sh experiments/hopper-quick reports/example/hopper-quick

clean:
	rm -rf $(BUILD)

# Mutation campaign over mdp/, bcql/ and proofs_checks/ (mutation/mutants.txt): each mutant
# alone in a torch-free copy of the committed tree, rebuilt and run against the default tests.
mutate:
	bash scripts/mutate.sh $(MUTATE_DIR)

# libFuzzer targets (fuzz/) built with clang-14, ASan and UBSan in $(FUZZ_BUILD), each run
# FUZZ_SECONDS on its seed corpus (fuzz/corpus/); a crash, leak or 1 s input fails the run.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS    = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
.PHONY: fuzz
fuzz: | deps
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_C_FLAGS="$(FUZZ_FLAGS)" -DCMAKE_CXX_FLAGS="$(FUZZ_FLAGS)" \
	  -DBCQ_BUILD_FUZZ=ON -DBCQ_WITH_TORCH=OFF -DBCQ_WITH_MUJOCO=OFF -DBCQ_WITH_MPI=OFF \
	  -DBCQ_BUILD_TESTS=OFF -DBCQ_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
