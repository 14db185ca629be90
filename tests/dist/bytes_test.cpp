// The flat serialisation: round trips and malformed buffers.
#include <gtest/gtest.h>

#include "sdzero/dist/bytes.hpp"

TEST(Bytes, RoundTripsPodsVectorsAndStrings) {
  sdz::ByteWriter w;
  w.put<int32_t>(-7);
  w.put_vec(std::vector<float>{1.5f, -2.f});
  w.put_str("héllo");
  w.put<double>(3.25);
  sdz::ByteReader r(w.bytes());
  EXPECT_EQ(r.get<int32_t>(), -7);
  EXPECT_EQ(r.get_vec<float>(), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(r.get_str(), "héllo");
  EXPECT_EQ(r.get<double>(), 3.25);
  EXPECT_TRUE(r.done());
}

TEST(Bytes, ReadingPastTheEndIsAnError) {
  sdz::ByteWriter w;
  w.put<uint64_t>(1000000);  // a vector length with no data behind it
  sdz::ByteReader r(w.bytes());
  EXPECT_THROW(r.get_vec<int64_t>(), sdz::Error);
  sdz::ByteReader r2(w.bytes());
  r2.get<uint64_t>();
  EXPECT_THROW(r2.get<uint8_t>(), sdz::Error);
}
