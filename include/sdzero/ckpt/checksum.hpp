// defines: CRC32C (Castagnoli), the per-dataset checksum of checkpoints. The hardware instruction
// (SSE4.2) is used when the CPU has it, else a table-driven software path; both give the same value.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sdz::ckpt {

// CRC32C of `n` bytes, continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);
// The portable path, exposed so tests can check that both paths agree.
uint32_t crc32c_software(const void* data, size_t n, uint32_t crc = 0);
bool crc32c_uses_hardware();

}  // namespace sdz::ckpt
