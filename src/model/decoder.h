// decoder.h — the CodeBind reconstruction decoder of one modality (docs/model.md §4):
//
//   x  = Linear(d_in → D_M, bias)(z)            z: quantised concat tokens (B, L, d_in), CLS kept
//   x  = LN_D(x) + LN_D(mean_S(Z))              the SAME LayerNorm on the trunk features Z
//   x  = x + PE                                 the encoder's position embedding (1, L, D_M), frozen
//   x  = Linear(D_M → W, bias)(x)               "decoder_embed"
//   N × Block(W): LN → MHA(qkv no bias, proj bias) → +, LN → MLP(W→4W→W, GELU) → +
//   drop CLS, LN(W) → (B, W, grid…) → transposed convolution (kernel = stride) → output
//
// The output is the half-resolution network input; DecoderGeometry says how the token grid
// maps to it (e.g. ImageBind vision: grid 1×16×16, kernel (2,7,7) → 3×2×112×112; a small
// 64×64 vision model with 8×8 patches: grid 8×8, kernel 4 → 3×32×32).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace cb {

struct DecoderGeometry {
  int64_t out_channels = 3;
  std::vector<int64_t> grid;    // token grid of the patch tokens, 2-D (h, w) or 3-D (t, h, w)
  std::vector<int64_t> kernel;  // transposed-conv kernel, same rank as grid
  std::vector<int64_t> stride;  // same rank as grid (= kernel for a non-overlapping head)
  int64_t num_patches() const;
  // Output spatial shape (without B and channels): (g−1)·s + k per axis.
  std::vector<int64_t> output_shape() const;
};

struct DecoderConfig {
  int64_t in_dim = 2048;     // d_c + d_s
  int64_t trunk_dim = 1280;  // D_M
  int64_t width = 512;
  int64_t depth = 8;
  int64_t heads = 8;
  DecoderGeometry geometry;
};

struct DecoderBlockImpl : torch::nn::Module {
  DecoderBlockImpl(int64_t width, int64_t heads);
  torch::Tensor forward(torch::Tensor x);  // (B, L, W) → (B, L, W)
  int64_t heads;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(DecoderBlock);

struct ReconDecoderImpl : torch::nn::Module {
  explicit ReconDecoderImpl(const DecoderConfig& cfg);
  // z (B, L, d_in); trunk (B·S, L, D_M); pos_embed (1, L, D_M) → (B, C, spatial…)
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& trunk, const torch::Tensor& pos_embed);
  DecoderConfig cfg;
  torch::nn::Linear input_proj{nullptr}, embed{nullptr};
  torch::nn::LayerNorm norm_d{nullptr}, norm_out{nullptr};
  torch::nn::ModuleList blocks;
  torch::nn::ConvTranspose2d head2d{nullptr};
  torch::nn::ConvTranspose3d head3d{nullptr};
};
TORCH_MODULE(ReconDecoder);

// The reconstruction target: the network input x (B, C, H, W) or (B, C, T, H, W) resized
// bilinearly to the decoder's output shape (for a 3-D output with T frames from a 2-D input,
// the image is repeated along the frame axis, as ImageBind pads images to 2 frames).
torch::Tensor reconstruction_target(const torch::Tensor& x, const DecoderGeometry& g);

}  // namespace cb
