// Hostile zip archives: sizes that claim gigabytes, members that inflate past what they declare,
// local headers that disagree with the central directory, overlapping and repeated members, and
// counts and offsets that do not fit the file. Each archive is built valid, then patched.
#include "impasto/error.h"
#include "io/zip_reader.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <string>
#include <vector>
#include <zlib.h>

namespace impasto::io {
namespace {

void put(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

void patch(std::string& bytes, std::size_t at, std::uint64_t value, int count) {
    for (int i = 0; i < count; ++i) {
        bytes[at + static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
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

std::uint32_t crc_of(const std::string& data) {
    return static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

struct Member {
    std::string name;
    std::string data;
    bool deflated = false;
};

// A valid archive and where its parts are, for patching.
struct Zip {
    std::string bytes;
    std::vector<std::size_t> local;   // each member's local header
    std::vector<std::size_t> central; // each member's central directory entry
    std::size_t end_record = 0;
};

Zip make_zip(const std::vector<Member>& members) {
    Zip zip;
    std::string directory;
    std::vector<std::size_t> central_in_directory;
    for (const Member& m : members) {
        const std::string stored = m.deflated ? raw_deflate(m.data) : m.data;
        const std::size_t offset = zip.bytes.size();
        zip.local.push_back(offset);
        put(zip.bytes, 0x04034b50, 4);
        put(zip.bytes, 20, 2);
        put(zip.bytes, 0, 2);
        put(zip.bytes, m.deflated ? 8 : 0, 2);
        put(zip.bytes, 0, 4);
        put(zip.bytes, crc_of(m.data), 4);
        put(zip.bytes, stored.size(), 4);
        put(zip.bytes, m.data.size(), 4);
        put(zip.bytes, m.name.size(), 2);
        put(zip.bytes, 0, 2);
        zip.bytes += m.name + stored;

        central_in_directory.push_back(directory.size());
        put(directory, 0x02014b50, 4);
        put(directory, 20, 2);
        put(directory, 20, 2);
        put(directory, 0, 2);
        put(directory, m.deflated ? 8 : 0, 2);
        put(directory, 0, 4);
        put(directory, crc_of(m.data), 4);
        put(directory, stored.size(), 4);
        put(directory, m.data.size(), 4);
        put(directory, m.name.size(), 2);
        put(directory, 0, 2 * 4); // extra, comment, disk, internal attributes
        put(directory, 0, 4);     // external attributes
        put(directory, offset, 4);
        directory += m.name;
    }
    const std::size_t directory_offset = zip.bytes.size();
    for (const std::size_t at : central_in_directory) {
        zip.central.push_back(directory_offset + at);
    }
    zip.bytes += directory;
    zip.end_record = zip.bytes.size();
    put(zip.bytes, 0x06054b50, 4);
    put(zip.bytes, 0, 4);
    put(zip.bytes, members.size(), 2);
    put(zip.bytes, members.size(), 2);
    put(zip.bytes, directory.size(), 4);
    put(zip.bytes, directory_offset, 4);
    put(zip.bytes, 0, 2);
    return zip;
}

// Sets a member's uncompressed size in both headers, so that only the claim itself is wrong.
void claim_uncompressed(Zip& zip, std::size_t member, std::uint64_t size) {
    patch(zip.bytes, zip.central[member] + 24, size, 4);
    patch(zip.bytes, zip.local[member] + 22, size, 4);
}

std::string compressible(std::size_t size) {
    return std::string(size, 'a');
}

// The message of the WeightsError from opening the archive and reading every member.
std::string error_of(const std::string& bytes) {
    try {
        const ZipArchive archive(bytes, "hostile.zip");
        for (const std::string& name : archive.member_names()) {
            archive.read(name);
        }
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "(no WeightsError)";
}

// The message of the WeightsError from opening the archive only (nothing read yet).
std::string open_error_of(const std::string& bytes) {
    try {
        const ZipArchive archive(bytes, "hostile.zip");
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "(no WeightsError)";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

} // namespace

TEST(HostileZip, ValidArchiveReads) {
    const Zip zip = make_zip({{"a.txt", "hello", false}, {"b.bin", compressible(100000), true}});
    const ZipArchive archive(zip.bytes, "ok.zip");
    EXPECT_EQ(archive.read("a.txt"), "hello");
    EXPECT_EQ(archive.read("b.bin"), compressible(100000));
}

// A few hundred bytes that claim 4 GiB: refused from the directory, before any allocation.
TEST(HostileZip, ClaimedSizeIsCappedBeforeAnythingIsRead) {
    Zip zip = make_zip({{"bomb.bin", compressible(5000), true}});
    claim_uncompressed(zip, 0, 0xFFFFFFFEU);
    EXPECT_CONTAINS(open_error_of(zip.bytes), "over the limit of 1073741824");
}

// Deflate expands at most ~1032:1; a member that claims more cannot be honest.
TEST(HostileZip, ClaimedSizeMustFitTheDeflateRatio) {
    Zip zip = make_zip({{"bomb.bin", compressible(5000), true}});
    claim_uncompressed(zip, 0, 200U << 20U); // 200 MB from a few dozen bytes
    EXPECT_CONTAINS(open_error_of(zip.bytes), "cannot inflate to the claimed");
    Zip stored = make_zip({{"s.bin", "12345", false}});
    claim_uncompressed(stored, 0, 1000);
    EXPECT_CONTAINS(open_error_of(stored.bytes), "stored (uncompressed) but its sizes differ");
}

TEST(HostileZip, InflateIsBoundedByTheDeclaredSize) {
    Zip longer = make_zip({{"m.bin", compressible(5000), true}});
    claim_uncompressed(longer, 0, 4000); // the stream holds 5000
    EXPECT_CONTAINS(error_of(longer.bytes), "inflates to more than the declared 4000 bytes");
    Zip shorter = make_zip({{"m.bin", compressible(5000), true}});
    claim_uncompressed(shorter, 0, 6000);
    EXPECT_CONTAINS(error_of(shorter.bytes), "corrupt deflate data");
}

TEST(HostileZip, LocalHeaderMustAgreeWithTheCentralDirectory) {
    Zip renamed = make_zip({{"a.txt", "hello", false}});
    renamed.bytes[renamed.local[0] + 30] = 'b'; // the local name says b.txt
    EXPECT_CONTAINS(open_error_of(renamed.bytes), "local header disagrees");
    Zip resized = make_zip({{"a.txt", "hello", false}});
    patch(resized.bytes, resized.local[0] + 18, 3, 4);
    EXPECT_CONTAINS(open_error_of(resized.bytes), "local header disagrees");
    Zip method = make_zip({{"a.txt", "hello", false}});
    patch(method.bytes, method.local[0] + 8, 8, 2);
    EXPECT_CONTAINS(open_error_of(method.bytes), "local header disagrees");
}

// A stored member whose data is another member (header and all): reading both gives the same
// bytes twice, the trick behind non-recursive zip bombs.
TEST(HostileZip, OverlappingMembersAreRefused) {
    const Zip inner = make_zip({{"inner", "payload", false}});
    const std::string inner_entry = inner.bytes.substr(0, inner.central[0]); // local header + data
    Zip outer = make_zip({{"outer", inner_entry, false}});
    // A second central entry pointing into outer's data, at the embedded local header.
    std::string entry = inner.bytes.substr(inner.central[0], inner.end_record - inner.central[0]);
    patch(entry, 42, outer.local[0] + 30 + 5, 4);
    std::string bytes = outer.bytes.substr(0, outer.end_record) + entry + outer.bytes.substr(outer.end_record);
    patch(bytes, outer.end_record + entry.size() + 8, 2, 2);
    patch(bytes, outer.end_record + entry.size() + 10, 2, 2);
    patch(bytes, outer.end_record + entry.size() + 12, outer.end_record - outer.central[0] + entry.size(), 4);
    EXPECT_CONTAINS(open_error_of(bytes), "overlap");
}

TEST(HostileZip, RepeatedNamesAreRefused) {
    const Zip zip = make_zip({{"x", "first", false}, {"x", "second", false}});
    EXPECT_CONTAINS(open_error_of(zip.bytes), "appears twice");
}

TEST(HostileZip, CountsAndOffsetsMustFitTheFile) {
    Zip many = make_zip({{"a", "1", false}});
    patch(many.bytes, many.end_record + 8, 0xFFFE, 2);
    patch(many.bytes, many.end_record + 10, 0xFFFE, 2);
    EXPECT_CONTAINS(open_error_of(many.bytes), "cannot fit in a central directory");
    Zip long_name = make_zip({{"a", "1", false}});
    patch(long_name.bytes, long_name.central[0] + 28, 40, 2); // runs into the end record
    EXPECT_CONTAINS(open_error_of(long_name.bytes), "runs past the central directory");
    Zip outside = make_zip({{"a", "1", false}, {"b", "2", false}});
    patch(outside.bytes, outside.central[1] + 42, outside.end_record, 4); // local header at the end record
    EXPECT_CONTAINS(open_error_of(outside.bytes), "corrupt local header");
    Zip comment = make_zip({{"a", "1", false}});
    patch(comment.bytes, comment.end_record + 20, 500, 2);
    EXPECT_CONTAINS(open_error_of(comment.bytes), "comment runs past");
}

TEST(HostileZip, Zip64MultiVolumeAndEncryptionAreRefused) {
    Zip zip64 = make_zip({{"a", "1", false}});
    patch(zip64.bytes, zip64.central[0] + 20, 0xFFFFFFFFU, 4);
    EXPECT_CONTAINS(open_error_of(zip64.bytes), "zip64 members are not supported");
    Zip volume = make_zip({{"a", "1", false}});
    patch(volume.bytes, volume.end_record + 4, 1, 2);
    EXPECT_CONTAINS(open_error_of(volume.bytes), "multi-volume");
    Zip encrypted = make_zip({{"a", "1", false}});
    patch(encrypted.bytes, encrypted.central[0] + 8, 1, 2);
    EXPECT_CONTAINS(open_error_of(encrypted.bytes), "encrypted");
}

} // namespace impasto::io
