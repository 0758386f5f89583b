// Error replies keep their sense and drop server paths and the database's words.
#include "server/public_error.h"

#include <gtest/gtest.h>

namespace impasto::studio {
namespace {

TEST(StudioPublicError, AbsolutePathsBecomeTheirLastComponent) {
    EXPECT_EQ(public_error_message("loading content image '/srv/studio/uploads/u_0123.png': truncated PNG"),
              "loading content image 'u_0123.png': truncated PNG");
    EXPECT_EQ(public_error_message("cannot read /home/ann/.local/share/impasto/studio/uploads/u_1.jpg"),
              "cannot read u_1.jpg");
    EXPECT_EQ(public_error_message("weights \"/usr/share/impasto/My Weights/vgg19.safetensors\" are missing"),
              "weights \"vgg19.safetensors\" are missing");
    EXPECT_EQ(public_error_message("filesystem error: cannot open: No such file [/tmp/x/y.png] [/tmp/z]"),
              "filesystem error: cannot open: No such file [y.png] [z]");
    EXPECT_EQ(public_error_message("(/a/b/c)"), "(c)");
    EXPECT_EQ(public_error_message("/data/results/: not writable"), "results: not writable");
    EXPECT_EQ(public_error_message("at /opt/x.png: bad, then /opt/y.png"), "at x.png: bad, then y.png");
    EXPECT_EQ(public_error_message("path=/etc/passwd"), "path=passwd");
    // Unquoted, with spaces: the words that go on with a '/' are the same path.
    EXPECT_EQ(public_error_message("cannot read /home/ann/My Studio/uploads/u_1.png"), "cannot read u_1.png");
    EXPECT_EQ(public_error_message("cannot read /srv/My Big Studio/uploads/u_1.png: gone"),
              "cannot read u_1.png: gone");
    EXPECT_EQ(public_error_message("/srv/a b/c d/e.png and /x/y"), "e.png and y");
}

TEST(StudioPublicError, SlashesInsideWordsAreNoPaths) {
    for (const char* message : {"send the image as multipart/form-data field 'file'", "expected image/png",
                                "a ratio of 1/2", "size = 5 is out of range; allowed: 16..2048", "a / b"}) {
        EXPECT_EQ(public_error_message(message), message);
    }
}

TEST(StudioPublicError, DatabaseMessagesAreReplacedWhole) {
    for (const char* message : {
             "preparing 'SELECT id FROM jobs WHERE id = ?1': no such table: jobs (database '/srv/s/studio.sqlite3')",
             "running 'INSERT INTO jobs VALUES (?1)': UNIQUE constraint failed: jobs.id",
             "opening database '/srv/s/studio.sqlite3': unable to open database file",
             "SQLite error 11: database disk image is malformed",
             "sql logic error",
             "job 'j_1' has an unknown state 'x' in the database",
         }) {
        const std::string shown = public_error_message(message);
        EXPECT_EQ(shown.find('/'), std::string::npos) << shown;
        for (const char* word : {"SELECT", "INSERT", "sqlite", "SQLite", "jobs.id", "sqlite3"}) {
            EXPECT_EQ(shown.find(word), std::string::npos) << message << " -> " << shown;
        }
        EXPECT_FALSE(shown.empty());
    }
}

TEST(StudioPublicError, ErrorObjectsAreScrubbedAtAnyDepth) {
    nlohmann::json body = {
        {"jobs",
         {{{"id", "j_1"}, {"error", {{"code", "input"}, {"message", "loading '/srv/uploads/u_1.png': gone"}}}},
          {{"id", "j_2"}, {"error", nullptr}}}},
        {"error", {{"code", "output"}, {"message", "stepping: database is locked (database '/srv/studio.sqlite3')"}}},
        {"note", "/srv/kept/as/it/is"}};
    scrub_error_objects(body);
    EXPECT_EQ(body["jobs"][0]["error"]["message"], "loading 'u_1.png': gone");
    EXPECT_TRUE(body["jobs"][1]["error"].is_null());
    EXPECT_EQ(body["error"]["message"].get<std::string>().find("/srv"), std::string::npos);
    EXPECT_EQ(body["error"]["code"], "output");
    EXPECT_EQ(body["note"], "/srv/kept/as/it/is") << "only error messages are rewritten";
}

} // namespace
} // namespace impasto::studio
