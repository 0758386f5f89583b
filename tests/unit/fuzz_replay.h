#pragma once
// Replays the fuzz targets' inputs in the unit tests: the crashes the fuzzers found (minimised, in
// fuzz/regressions/<target>/) and the committed seed corpora (fuzz/corpus/<target>/), each through
// the same entry point as the fuzzer (fuzz/fuzz_entry.h). An input that crashes, trips a sanitizer
// (in the asan preset) or breaks an oracle aborts the test binary; a stray exception fails the test.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <string>
#include <vector>

namespace impasto::testing {

inline std::filesystem::path fuzz_dir() {
    return IMPASTO_FUZZ_DIR;
}

// The files of fuzz/<kind>/<target>/ in name order (none when the folder does not exist).
inline std::vector<std::filesystem::path> fuzz_inputs(const std::string& kind, const std::string& target) {
    std::vector<std::filesystem::path> files;
    const std::filesystem::path dir = fuzz_dir() / kind / target;
    if (std::filesystem::is_directory(dir)) {
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (entry.is_regular_file() && entry.path().filename().string().rfind('.', 0) != 0) {
                files.push_back(entry.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

inline std::string read_fuzz_input(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs every regression input and every seed of `target` through `entry`; returns how many ran.
template <class Entry> std::size_t replay_fuzz_inputs(const std::string& target, Entry entry) {
    std::size_t count = 0;
    for (const char* kind : {"regressions", "corpus"}) {
        for (const std::filesystem::path& file : fuzz_inputs(kind, target)) {
            const std::string bytes = read_fuzz_input(file);
            EXPECT_NO_THROW(entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())) << file.string();
            ++count;
        }
    }
    return count;
}

// The seeds (fuzz/corpus/<target>/seed-*): valid inputs that the parser must accept, or the fuzzer
// starts from nothing. `accept` parses one and throws on refusal.
template <class Accept> void expect_seeds_accepted(const std::string& target, Accept accept) {
    std::size_t seeds = 0;
    for (const std::filesystem::path& file : fuzz_inputs("corpus", target)) {
        if (file.filename().string().rfind("seed-", 0) != 0) {
            continue;
        }
        ++seeds;
        const std::string bytes = read_fuzz_input(file);
        try {
            accept(bytes, file);
        } catch (const std::exception& e) {
            ADD_FAILURE() << file.string() << " is refused: " << e.what();
        }
    }
    EXPECT_GT(seeds, 0U) << "no seeds in " << (fuzz_dir() / "corpus" / target).string();
}

} // namespace impasto::testing
