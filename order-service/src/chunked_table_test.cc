#include "xc/order_service/internal/chunked_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xc::order_service::internal {
namespace {

// Counts live objects, so the test sees each constructed once and destroyed
// once.
struct Tracked {
  explicit Tracked(int v, int* live) : value(v), live(live), text(std::to_string(v)) { ++*live; }
  ~Tracked() { --*live; }
  int value;
  int* live;
  std::string text;
};

TEST(ChunkedTableTest, AppendsAcrossChunksWithoutMovingAnything) {
  int live = 0;
  {
    ChunkedTable<Tracked, /*kChunkBits=*/3> t;  // 8 per chunk
    std::vector<const Tracked*> addresses;
    for (int i = 0; i < 100; ++i) {
      Tracked& e = t.emplace_back(i, &live);
      EXPECT_EQ(e.value, i);
      addresses.push_back(&e);
      EXPECT_EQ(t.size(), static_cast<size_t>(i + 1));
    }
    EXPECT_EQ(live, 100);
    for (int i = 0; i < 100; ++i) {
      // Every element where it was put, with its value: nothing moved.
      EXPECT_EQ(&t[static_cast<size_t>(i)], addresses[static_cast<size_t>(i)]);
      EXPECT_EQ(t[static_cast<size_t>(i)].text, std::to_string(i));
    }
    t[42].value = -1;
    const auto& ct = t;
    EXPECT_EQ(ct[42].value, -1);
  }
  EXPECT_EQ(live, 0);  // each destroyed once, none twice
}

TEST(ChunkedTableTest, EmptyTableOwnsNothing) {
  ChunkedTable<std::string> t;
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace xc::order_service::internal
