// Hostile torch.save files: storages declared twice with different dtypes or sizes, views whose
// offset, shape and stride overflow or leave their storage, stride-0 allocation bombs, and pickles
// that nest, loop or multiply values without bound. Every file here is a few hundred bytes.
#include "impasto/error.h"
#include "io/torch_legacy.h"
#include "io/torch_legacy_pickle.h"
#include "io/zip_reader.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <limits>
#include <string>
#include <vector>

namespace impasto::io {
namespace {

constexpr std::int64_t k2to62 = std::int64_t{1} << 62;

// The bytes of a literal, NULs included.
template <std::size_t N> std::string raw(const char (&text)[N]) {
    return std::string(text, N - 1);
}

class PickleBuilder {
  public:
    std::string out;
    void op(int code) { out += static_cast<char>(code); }
    void le(std::uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out += static_cast<char>((value >> (8 * i)) & 0xff);
        }
    }
    void integer(std::int64_t value) {
        if (value >= INT32_MIN && value <= INT32_MAX) {
            op('J');
            le(static_cast<std::uint64_t>(value), 4);
        } else {
            op(0x8a); // LONG1, 8 bytes
            op(8);
            le(static_cast<std::uint64_t>(value), 8);
        }
    }
    void string(const std::string& text) {
        op('X');
        le(text.size(), 4);
        out += text;
    }
    void global(const std::string& module, const std::string& name) { out += "c" + module + "\n" + name + "\n"; }
    void int_tuple(const std::vector<std::int64_t>& values) {
        op('(');
        for (const std::int64_t v : values) {
            integer(v);
        }
        op('t');
    }
};

// A tensor entry of the saved dict: its storage's persistent id and the view on it.
struct View {
    std::string name;
    std::string storage_type = "FloatStorage";
    std::string key = "0";
    std::int64_t declared_numel = 4;
    std::int64_t offset = 0;
    std::vector<std::int64_t> shape{4};
    std::vector<std::int64_t> stride{1};
};

// A storage in the data section: the element count written before it, and its bytes.
struct Storage {
    std::string key = "0";
    std::uint64_t count = 4;
    std::string bytes = std::string(16, '\x01');
};

std::string object_pickle(const std::vector<View>& views, bool zip_format) {
    PickleBuilder w;
    w.op(0x80);
    w.op(2);
    w.op('}');
    w.op('(');
    for (const View& v : views) {
        w.string(v.name);
        w.global("torch._utils", "_rebuild_tensor_v2");
        w.op('(');
        w.op('('); // the storage's persistent id
        w.string("storage");
        w.global("torch", v.storage_type);
        w.string(v.key);
        w.string("cpu");
        w.integer(v.declared_numel);
        if (!zip_format) {
            w.op('N');
        }
        w.op('t');
        w.op('Q');
        w.integer(v.offset);
        w.int_tuple(v.shape);
        w.int_tuple(v.stride);
        w.op(0x89);
        w.global("collections", "OrderedDict");
        w.op(')');
        w.op('R');
        w.op('t');
        w.op('R');
    }
    w.op('u');
    w.op('.');
    return w.out;
}

std::string legacy_file(const std::vector<View>& views, const std::vector<Storage>& storages) {
    PickleBuilder w;
    w.op(0x80);
    w.op(2);
    w.op(0x8a);
    w.op(10);
    const std::uint8_t magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    w.out.append(reinterpret_cast<const char*>(magic), sizeof magic);
    w.op('.');
    w.op(0x80);
    w.op(2);
    w.integer(1001);
    w.op('.');
    w.op(0x80);
    w.op(2);
    w.op('}');
    w.op('.');
    w.out += object_pickle(views, false);
    w.op(0x80);
    w.op(2);
    w.op(']');
    w.op('(');
    for (const Storage& s : storages) {
        w.string(s.key);
    }
    w.op('e');
    w.op('.');
    for (const Storage& s : storages) {
        w.le(s.count, 8);
        w.out += s.bytes;
    }
    return w.out;
}

TensorMap parse(const std::string& bytes) {
    return parse_torch_legacy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "hostile.pth");
}

std::string error_of(const std::string& bytes) {
    try {
        parse(bytes);
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "(no WeightsError)";
}

#define EXPECT_REFUSED(bytes, needle)                                                                                  \
    do {                                                                                                               \
        const std::string message = error_of(bytes);                                                                   \
        EXPECT_NE(message.find(needle), std::string::npos) << message;                                                 \
    } while (0)

} // namespace

TEST(HostileTorchLegacy, BuilderMakesAReadableFile) {
    const TensorMap tensors = parse(legacy_file({{"w"}}, {{}}));
    ASSERT_EQ(tensors.size(), 1U);
    EXPECT_EQ(tensors.at("w").bytes.size(), 16U);
}

// The storage's size came from the last tensor naming it while each tensor read with its own
// dtype: a float view of a byte storage read 16 bytes from a buffer of 4.
TEST(HostileTorchLegacy, StorageDeclaredWithTwoDtypesIsRefused) {
    View as_float{"a"};
    View as_bytes{"b", "ByteStorage"};
    const Storage four_bytes{"0", 4, std::string(4, '\x02')};
    EXPECT_REFUSED(legacy_file({as_float, as_bytes}, {four_bytes}), "declared twice");
    EXPECT_REFUSED(legacy_file({as_bytes, as_float}, {{}}), "declared twice");
    View longer{"c"};
    longer.declared_numel = 8;
    EXPECT_REFUSED(legacy_file({as_float, longer}, {{}}), "declared twice");
}

TEST(HostileTorchLegacy, StorageIsSizedByItsOwnDeclaration) {
    View small{"w"};
    small.declared_numel = 2; // the data section below says 4
    EXPECT_REFUSED(legacy_file({small}, {{}}), "declared with 2");
    // A key in the list that no tensor declares has no element size to read it with.
    EXPECT_REFUSED(legacy_file({{"w"}}, {{}, {"9", 4, std::string(16, '\0')}}), "no tensor declares it");
    EXPECT_REFUSED(legacy_file({{"w"}}, {{}, {}}), "listed twice");
}

// (shape - 1) * stride summed over four dimensions is 2^64: it wrapped to 0 and passed the bound.
TEST(HostileTorchLegacy, StrideArithmeticOverflowIsRefused) {
    View view{"w"};
    view.shape = {2, 2, 2, 2};
    view.stride = {k2to62, k2to62, k2to62, k2to62};
    EXPECT_REFUSED(legacy_file({view}, {{}}), "reach past its storage");
    view.shape = {3};
    view.stride = {std::numeric_limits<std::int64_t>::max()};
    EXPECT_REFUSED(legacy_file({view}, {{}}), "reach past its storage");
}

TEST(HostileTorchLegacy, StorageOffsetIsCheckedOnItsOwn) {
    View empty{"w"};
    empty.offset = k2to62; // an empty view was never bounds-checked
    empty.shape = {0};
    EXPECT_REFUSED(legacy_file({empty}, {{}}), "storage offset");
    View wrapping{"w"};
    wrapping.offset = k2to62; // offset + 3 * 2^62 wraps to 0
    wrapping.shape = {2, 2, 2};
    wrapping.stride = {k2to62, k2to62, k2to62};
    EXPECT_REFUSED(legacy_file({wrapping}, {{}}), "storage offset");
    View negative{"w"};
    negative.offset = -1;
    EXPECT_REFUSED(legacy_file({negative}, {{}}), "storage offset");
}

TEST(HostileTorchLegacy, NegativeSizesAndStridesAreRefused) {
    View view{"w"};
    view.shape = {-4};
    EXPECT_REFUSED(legacy_file({view}, {{}}), "negative size or stride");
    view.shape = {4};
    view.stride = {-1};
    EXPECT_REFUSED(legacy_file({view}, {{}}), "negative size or stride");
}

// A stride-0 view repeats one element: 400 bytes of file asked for 4 TB.
TEST(HostileTorchLegacy, StrideZeroViewIsCapped) {
    View bomb{"w"};
    bomb.shape = {1 << 20, 1 << 20};
    bomb.stride = {0, 0};
    EXPECT_REFUSED(legacy_file({bomb}, {{}}), "over the limit of 1073741824 bytes per tensor");
    bomb.shape = {(std::int64_t{1} << 28) + 1}; // one float over 1 GiB
    bomb.stride = {0};
    EXPECT_REFUSED(legacy_file({bomb}, {{}}), "over the limit of 1073741824 bytes per tensor");
    bomb.shape = {std::int64_t{1} << 32, std::int64_t{1} << 32}; // 2^64 elements wrapped to 0
    bomb.stride = {0, 0};
    EXPECT_REFUSED(legacy_file({bomb}, {{}}), "more bytes than 64 bits count");
}

// Three views of exactly 1 GiB each are fine one by one; together they are refused before the
// first is copied (nothing is allocated).
TEST(HostileTorchLegacy, TotalOfAllTensorsIsCapped) {
    std::vector<View> views;
    for (const char* name : {"a", "b", "c"}) {
        View view{name};
        view.shape = {std::int64_t{1} << 28};
        view.stride = {0};
        views.push_back(view);
    }
    EXPECT_REFUSED(legacy_file(views, {{}}), "limit of 2147483648 bytes per file");
}

TEST(HostileTorchLegacy, DuplicateNamesAreRefused) {
    EXPECT_REFUSED(legacy_file({{"w"}, {"w"}}, {{}}), "appears twice");
}

// The zip format sizes each storage from its member: the member must hold what is declared.
TEST(HostileTorchZip, StorageMemberMustMatchItsDeclaration) {
    View view{"w"};
    view.declared_numel = 2;
    const std::string zip = serialize_zip_stored(
        {{"archive/data.pkl", object_pickle({view}, true)}, {"archive/data/0", std::string(16, 'x')}});
    try {
        parse_torch_zip(zip, "hostile.pth");
        FAIL() << "a 16-byte member read as a storage declared with 2 floats";
    } catch (const WeightsError& e) {
        EXPECT_NE(std::string(e.what()).find("declared as 2 F32 elements"), std::string::npos) << e.what();
    }
    View as_bytes{"b", "ByteStorage"};
    const std::string mixed = serialize_zip_stored(
        {{"archive/data.pkl", object_pickle({{"a"}, as_bytes}, true)}, {"archive/data/0", std::string(16, 'x')}});
    EXPECT_THROW(parse_torch_zip(mixed, "hostile.pth"), WeightsError);
}

// ---- the pickle VM on its own ----

pickle::ValuePtr run_pickle(const std::string& bytes) {
    std::size_t pos = 0;
    return pickle::Unpickler(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), pos, "test").run();
}

std::string vm_error(const std::string& bytes) {
    try {
        run_pickle(bytes);
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "(no WeightsError)";
}

// A million nested tuples: freeing them recursed a million frames deep.
TEST(HostilePickle, NestingDepthIsBounded) {
    std::string bytes = "N";
    bytes.append(1'000'000, '\x85'); // TUPLE1 around the previous value
    bytes += '.';
    EXPECT_NE(vm_error(bytes).find("nests deeper than 32"), std::string::npos);
    std::string shallow = "N";
    shallow.append(30, '\x85');
    shallow += '.';
    EXPECT_NO_THROW(run_pickle(shallow));
}

// A list appended to itself (through the memo) is a cycle that is never freed.
TEST(HostilePickle, ContainerInsideItselfIsRefused) {
    EXPECT_NE(vm_error(raw("]q\x00h\x00"
                           "a."))
                  .find("after nesting it"),
              std::string::npos);
}

// A list nested in a tuple, then changed through the memo: its depth would no longer be known.
TEST(HostilePickle, ChangingANestedContainerIsRefused) {
    EXPECT_NE(vm_error(raw("]q\x00\x85h\x00K\x01"
                           "a\x86."))
                  .find("after nesting it"),
              std::string::npos);
}

TEST(HostilePickle, ValueCountIsBounded) {
    std::string bytes = "(";
    bytes.append(600'000, ')'); // empty tuples, one byte each
    bytes += "t.";
    EXPECT_NE(vm_error(bytes).find("more than 524288 values"), std::string::npos);
}

TEST(HostilePickle, LengthsAndMemoIndicesAreChecked) {
    EXPECT_NE(vm_error(raw("X\xff\xff\xff\x7f")).find("truncated pickle stream"), std::string::npos);
    EXPECT_NE(vm_error(raw("j\xff\xff\xff\xff.")).find("memo entry 4294967295 missing"), std::string::npos);
    EXPECT_NE(vm_error("(((N.").find("marks on the stack"), std::string::npos);
}

} // namespace impasto::io
