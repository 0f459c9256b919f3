// What this binary was built from, for the provenance that run folders, studies and reports
// record.
#pragma once

namespace bcq {

// The git commit (12 hex digits) of the source tree at build time, with "-dirty" appended when
// tracked files differed from it, or "unknown" outside a git checkout. Refreshed on every build
// (cmake/build_info.cmake), not only when CMake reconfigures.
const char* git_commit();

}  // namespace bcq
