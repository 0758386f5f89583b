// The zip reader on archives written here by hand with zlib: stored and deflated members.
#include "impasto/error.h"
#include "io/zip_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace impasto::io {
namespace {

void put(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

std::string raw_deflate(const std::string& data) {
    z_stream stream{};
    deflateInit2(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&stream, data.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

struct Member {
    std::string name;
    std::string data;
    bool deflated;
};

std::string make_zip(const std::vector<Member>& members) {
    std::string out, directory;
    for (const auto& m : members) {
        const std::string stored = m.deflated ? raw_deflate(m.data) : m.data;
        const auto crc = crc32(0, reinterpret_cast<const Bytef*>(m.data.data()), static_cast<uInt>(m.data.size()));
        const std::size_t offset = out.size();
        put(out, 0x04034b50, 4);
        put(out, 20, 2);
        put(out, 0, 2);
        put(out, m.deflated ? 8 : 0, 2);
        put(out, 0, 4); // time, date
        put(out, crc, 4);
        put(out, stored.size(), 4);
        put(out, m.data.size(), 4);
        put(out, m.name.size(), 2);
        put(out, 0, 2);
        out += m.name + stored;

        put(directory, 0x02014b50, 4);
        put(directory, 20, 2);
        put(directory, 20, 2);
        put(directory, 0, 2);
        put(directory, m.deflated ? 8 : 0, 2);
        put(directory, 0, 4);
        put(directory, crc, 4);
        put(directory, stored.size(), 4);
        put(directory, m.data.size(), 4);
        put(directory, m.name.size(), 2);
        put(directory, 0, 2 * 4); // extra, comment, disk, internal attributes
        put(directory, 0, 4);     // external attributes
        put(directory, offset, 4);
        directory += m.name;
    }
    const std::size_t directory_offset = out.size();
    out += directory;
    put(out, 0x06054b50, 4);
    put(out, 0, 4);
    put(out, members.size(), 2);
    put(out, members.size(), 2);
    put(out, directory.size(), 4);
    put(out, directory_offset, 4);
    put(out, 0, 2);
    return out;
}

std::string payload() {
    std::string text;
    for (int i = 0; i < 5000; ++i) {
        text += "weights " + std::to_string(i * 7919 % 1000) + "\n";
    }
    return text;
}

} // namespace

TEST(ZipReader, ReadsStoredAndDeflatedMembers) {
    const std::string data = payload();
    ZipArchive zip(make_zip({{"a/stored.txt", "hello", false}, {"pkg/deflated.bin", data, true}}), "t.whl");
    EXPECT_EQ(zip.member_names(), (std::vector<std::string>{"a/stored.txt", "pkg/deflated.bin"}));
    EXPECT_TRUE(zip.contains("pkg/deflated.bin"));
    EXPECT_EQ(zip.read("a/stored.txt"), "hello");
    EXPECT_EQ(zip.read("pkg/deflated.bin"), data);
    EXPECT_THROW(zip.read("missing"), WeightsError);
}

TEST(ZipReader, DetectsCorruptionAndTruncation) {
    const std::string data = payload();
    std::string bytes = make_zip({{"stored.txt", data, false}});
    bytes[30 + 10 + 100] ^= 0x20; // flip a bit inside the stored data
    try {
        ZipArchive(bytes, "t.whl").read("stored.txt");
        FAIL() << "CRC mismatch not detected";
    } catch (const WeightsError& e) {
        EXPECT_NE(std::string(e.what()).find("CRC-32 mismatch"), std::string::npos) << e.what();
    }
    const std::string good = make_zip({{"d.bin", data, true}});
    EXPECT_THROW(ZipArchive(good.substr(0, good.size() / 2), "t.whl"), WeightsError);
    EXPECT_THROW(ZipArchive("not a zip at all, just text", "t.whl"), WeightsError);
}

} // namespace impasto::io
