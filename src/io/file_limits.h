#pragma once
// The fixed caps on what one file from outside may make the library allocate. A value from a
// file is first checked against what the file can hold (bytes that are really there); where a
// format legitimately expands (a deflated zip member, a stride-0 tensor view, compressed pixels),
// these caps bound it, with an error that names the value and the cap.
#include <cstdint>

namespace impasto::io {

inline constexpr std::uint64_t kGiB = std::uint64_t{1} << 30U;

// Whole files read into memory: weights (.pth, .safetensors, .h5), models, wheels. The largest
// file we know of (torchvision VGG19 with its classifier) is 548 MB.
inline constexpr std::uint64_t kMaxWeightFileBytes = 2 * kGiB;
// Image files; cv::imdecode also takes at most INT_MAX bytes.
inline constexpr std::uint64_t kMaxImageFileBytes = kGiB;
// Study specs, manifests and other small text files.
inline constexpr std::uint64_t kMaxTextFileBytes = 16U << 20U;

// One materialised tensor (VGG19's largest, classifier.0.weight, is 411 MB) and all the tensors
// of one file together (a stride-0 view or many views of one storage can repeat its bytes).
inline constexpr std::uint64_t kMaxTensorBytes = kGiB;
inline constexpr std::uint64_t kMaxTotalTensorBytes = 2 * kGiB;
// Dimensions of one tensor: torch allows 64, no weight file we read has more than 5.
inline constexpr std::size_t kMaxTensorRank = 16;

// One uncompressed zip member, and all the members of one archive together.
inline constexpr std::uint64_t kMaxZipMemberBytes = kGiB;
inline constexpr std::uint64_t kMaxZipTotalBytes = 4 * kGiB;
// Deflate emits at least one bit per 258 bytes (a maximal match) plus block overhead, so no
// member inflates by more than about 1032:1; a larger claimed ratio is a lie or a bomb.
inline constexpr std::uint64_t kMaxDeflateRatio = 1032;

} // namespace impasto::io
