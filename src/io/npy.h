// npy.h — `.npy` files as tensors (the readers the trainer and `data check` share).
#pragma once
#include <torch/torch.h>

#include <string>

#include "io/npy_parse.h"

namespace cb {

// Reads a .npy file into a (contiguous, owning) tensor of its dtype: f4→Float, f8→Double,
// i8→Long, i4→Int, i2→Short, u1→Byte, u2→Int (widened). Throws InputError naming the file.
at::Tensor read_npy(const std::string& path);
// Same, from bytes in memory.
at::Tensor parse_npy_tensor(const uint8_t* data, size_t size, const std::string& file);
// Writes a tensor (Float, Double, Long, Int, Short, Byte) atomically as .npy v1 C-order.
void write_npy(const std::string& path, const at::Tensor& t);
// The bytes write_npy would write.
std::string npy_bytes(const at::Tensor& t);

}  // namespace cb
