#include "blas_core.h"

#include "impasto/device.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>

namespace impasto::cli {
namespace {

bool cpu_has_skylakex_subsets() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0) {
            for (const char* flag : {" avx512f", " avx512bw", " avx512vl", " avx512dq", " avx512cd"}) {
                if (line.find(flag) == std::string::npos) {
                    return false;
                }
            }
            return true;
        }
    }
    return false;
}

} // namespace

void reexec_with_better_blas_core(int /*argc*/, char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr || std::getenv("IMPASTO_KEEP_BLAS_CORE") != nullptr) {
        return;
    }
    const std::string core = blas_core();
    if (core != "Prescott" || !cpu_has_skylakex_subsets()) {
        return;
    }
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); // exec failed: carry on with the kernels we have
}

} // namespace impasto::cli
