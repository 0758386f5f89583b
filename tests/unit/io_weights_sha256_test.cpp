// SHA-256 against the FIPS 180-2 test vectors.
#include "impasto/error.h"
#include "io/sha256.h"
#include "testutil.h"

#include <fstream>
#include <gtest/gtest.h>

namespace impasto::io {

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MillionAsInUnevenChunks) {
    const std::string million(1000000, 'a');
    Sha256 hasher;
    std::size_t pos = 0;
    for (std::size_t step = 1; pos < million.size(); step = step * 3 % 1001 + 1) {
        const std::size_t take = std::min(step, million.size() - pos);
        hasher.update(million.data() + pos, take);
        pos += take;
    }
    EXPECT_EQ(hasher.finish_hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, FileMatchesBufferAndMissingFileThrows) {
    impasto::testing::TempDir dir;
    const std::string data(70000, 'x');
    std::ofstream(dir / "f.bin", std::ios::binary) << data;
    EXPECT_EQ(sha256_file_hex(dir / "f.bin"), sha256_hex(data));
    EXPECT_THROW(sha256_file_hex(dir / "missing.bin"), WeightsError);
}

} // namespace impasto::io
