#pragma once
// OpenBLAS 0.3.21 (Debian 12) does not know Zen 5 and falls back to its Prescott (SSE3) kernels,
// which makes fp32 Gram matrices ~3x slower. Its core type can only be chosen by the
// OPENBLAS_CORETYPE variable before the library loads, so the CLI re-executes itself once with
// the AVX-512 (SkylakeX) kernels when the CPU has every AVX-512 subset they use. Opt out with
// IMPASTO_KEEP_BLAS_CORE=1, or set OPENBLAS_CORETYPE yourself.
namespace impasto::cli {

// Returns only if no re-execution is needed or possible.
void reexec_with_better_blas_core(int argc, char** argv);

} // namespace impasto::cli
