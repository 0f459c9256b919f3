# The agents and their plumbing (no MuJoCo): the sources of bcq_continuous that
# scripts/gpu/CMakeLists.txt also compiles into its stand-alone bench_bcq. Relative to
# continuous/. One list, so the two builds cannot drift apart.
set(BCQ_CONTINUOUS_AGENT_SOURCES
  config.cpp
  nets.cpp
  agent.cpp
  bcq.cpp
  bcq_selection.cpp
  bcq_script.cpp
  selection_kernels.cpp
  baselines.cpp
  replay_buffer.cpp
  hdf5_global_heap.cpp
  hdf5_object_header.cpp
  sampling.cpp)
# Compile options the sources need wherever they are built.
function(bcq_continuous_source_options dir)
  # The fused Adam / Polyak loops vectorise only without errno-setting sqrt (not -ffast-math:
  # NaN checks must keep working).
  set_source_files_properties(${dir}/nets.cpp PROPERTIES COMPILE_OPTIONS -fno-math-errno)
  # The selection kernels must round every product and sum as LibTorch's separate operations
  # do (the exported TorchScript policy runs those): no contraction into fused multiply-add.
  set_source_files_properties(${dir}/selection_kernels.cpp PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
endfunction()
