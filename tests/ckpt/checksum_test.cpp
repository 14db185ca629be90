// CRC32C against published check values and a bit-at-a-time reference; hardware and software paths agree.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdzero/ckpt/checksum.hpp"
#include "sdzero/core/rng.hpp"

namespace {

// The definition, one bit at a time (reflected polynomial 0x82F63B78).
uint32_t crc32c_reference(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

}  // namespace

TEST(Crc32c, PublishedCheckValues) {
  const std::string s = "123456789";
  EXPECT_EQ(sdz::ckpt::crc32c(s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(sdz::ckpt::crc32c_software(s.data(), s.size()), 0xE3069283u);
  // RFC 3720 (iSCSI) B.4: 32 bytes of zeros and 32 bytes of 0xFF.
  std::vector<unsigned char> zeros(32, 0), ones(32, 0xFF);
  EXPECT_EQ(sdz::ckpt::crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(sdz::ckpt::crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(sdz::ckpt::crc32c(nullptr, 0), 0u);
}

TEST(Crc32c, BothPathsMatchTheReferenceAtEveryLengthAndAlignment) {
  sdz::Rng r(5);
  std::vector<unsigned char> buf(300);
  for (auto& b : buf) b = (unsigned char)r.next();
  for (size_t off = 0; off < 9; ++off)
    for (size_t n = 0; n + off <= buf.size(); n += 7) {
      uint32_t want = crc32c_reference(buf.data() + off, n);
      ASSERT_EQ(sdz::ckpt::crc32c(buf.data() + off, n), want) << off << " " << n;
      ASSERT_EQ(sdz::ckpt::crc32c_software(buf.data() + off, n), want) << off << " " << n;
    }
}

TEST(Crc32c, ContinuationEqualsOneShot) {
  std::string s = "The teacher scores the second copy of y, token by token.";
  uint32_t whole = sdz::ckpt::crc32c(s.data(), s.size());
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t c = sdz::ckpt::crc32c(s.data(), cut);
    EXPECT_EQ(sdz::ckpt::crc32c(s.data() + cut, s.size() - cut, c), whole);
    EXPECT_EQ(sdz::ckpt::crc32c_software(s.data() + cut, s.size() - cut, sdz::ckpt::crc32c_software(s.data(), cut)), whole);
  }
}

TEST(Crc32c, EverySingleBitFlipChangesTheValue) {
  std::vector<unsigned char> buf(64);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = (unsigned char)(i * 37);
  uint32_t base = sdz::ckpt::crc32c(buf.data(), buf.size());
  for (size_t i = 0; i < buf.size() * 8; ++i) {
    buf[i / 8] ^= (unsigned char)(1u << (i % 8));
    EXPECT_NE(sdz::ckpt::crc32c(buf.data(), buf.size()), base);
    buf[i / 8] ^= (unsigned char)(1u << (i % 8));
  }
}
