#pragma once
// One entry point per fuzz target: the fuzzer (fuzz/fuzz_*.cpp) and the regression tests
// (tests/unit/*_fuzz_regressions_test.cpp) run every input through the same function.
//
// The contract each entry checks: a hostile input is refused with an impasto::Error and nothing else.
// Any other exception (std::bad_alloc, std::length_error, a nlohmann exception...) propagates, so that
// libFuzzer reports it as a crash and the regression test fails. A broken oracle (a parsed tensor
// whose bytes do not match its shape, a decoded image larger than its header said) calls
// oracle_failure(), which aborts with the reason.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace impasto::fuzz {

[[noreturn]] inline void oracle_failure(const std::string& what) {
    std::fprintf(stderr, "impasto fuzz oracle failed: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

// The legacy torch.save reader (pickle VM, storages, tensors_from_dict); parsed files round-trip.
void torch_legacy(const std::uint8_t* data, std::size_t size);
// The zip-format torch.save reader (zip central directory, data.pkl, tensors_from_dict); round-trips.
// The CRC-32s of stored members are rewritten first, or mutations would rarely get past them.
void torch_zip(const std::uint8_t* data, std::size_t size);
// safetensors: header JSON, dtypes, shapes and offsets; parsed files round-trip with their metadata.
void safetensors(const std::uint8_t* data, std::size_t size);
// The `.impasto` model file: safetensors container plus JSON config and model card.
void style_model(const std::uint8_t* data, std::size_t size);

// The decode limit the image entry uses: small, so that an allocation over it is cheap to catch.
inline constexpr std::int64_t kImageFuzzMaxPixels = std::int64_t{1} << 20;
// OpenCV is given the same limit, so that its decoders refuse a header over it before allocating:
// the image entry sees that refusal as a decoder that was about to go past the limit. OpenCV reads
// the variable once, when the library loads, so a process must start with it:
// restart_with_opencv_limit() re-executes the current program with it set (and returns when it is).
inline constexpr const char* kOpenCvPixelLimitVariable = "OPENCV_IO_MAX_IMAGE_PIXELS";
void restart_with_opencv_limit(char** argv);
// load_image through the header probe and OpenCV. Oracles: when the probe gives a size, the decoded
// image has that size (or its transpose: EXIF orientation); when the probe's size is over the limit
// the decoder is never called; the decoder never reads a header over the limit (OpenCV's own check,
// see above) and never decodes an image whose size the probe could not tell. PNG chunk
// CRCs are rewritten first, as libpng refuses a critical chunk with a wrong one.
void image(const std::uint8_t* data, std::size_t size);

// A studio job request body (POST /api/jobs): bounded JSON parse, resolve_job_request against a
// fixed catalogue, then what the server does with an accepted request (stored JSON round trip,
// settings key and label, library options). Bad input must map to a 4xx, never to a 500.
void job_request(const std::uint8_t* data, std::size_t size);
// A study spec in TOML or JSON, parsed and planned, in a folder holding the images it may name
// (content.jpg, style.jpg, style2.png, photos/a.png).
void study_spec_toml(const std::uint8_t* data, std::size_t size);
void study_spec_json(const std::uint8_t* data, std::size_t size);

} // namespace impasto::fuzz
