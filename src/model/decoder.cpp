// decoder.cpp — see decoder.h (docs/model.md §4).
#include "model/decoder.h"

#include "core/error.h"

namespace cb {

namespace nn = torch::nn;

int64_t DecoderGeometry::num_patches() const {
  int64_t n = 1;
  for (int64_t g : grid) n *= g;
  return n;
}

std::vector<int64_t> DecoderGeometry::output_shape() const {
  std::vector<int64_t> s;
  for (size_t i = 0; i < grid.size(); ++i) s.push_back((grid[i] - 1) * stride[i] + kernel[i]);
  return s;
}

DecoderBlockImpl::DecoderBlockImpl(int64_t width, int64_t heads_) : heads(heads_) {
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({width}).eps(1e-6)));
  qkv = register_module("attn_qkv", nn::Linear(nn::LinearOptions(width, 3 * width).bias(false)));
  proj = register_module("attn_proj", nn::Linear(nn::LinearOptions(width, width).bias(true)));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({width}).eps(1e-6)));
  fc1 = register_module("mlp_fc1", nn::Linear(width, 4 * width));
  fc2 = register_module("mlp_fc2", nn::Linear(4 * width, width));
}

torch::Tensor DecoderBlockImpl::forward(torch::Tensor x) {
  const int64_t B = x.size(0), L = x.size(1), W = x.size(2), hd = W / heads;
  auto h = norm1->forward(x);
  auto qkv_ = qkv->forward(h).view({B, L, 3, heads, hd}).permute({2, 0, 3, 1, 4});  // (3, B, H, L, hd)
  auto q = qkv_[0], k = qkv_[1], v = qkv_[2];
  auto att = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(hd)), -1);  // (B, H, L, L)
  auto o = torch::matmul(att, v).transpose(1, 2).reshape({B, L, W});
  x = x + proj->forward(o);
  x = x + fc2->forward(torch::gelu(fc1->forward(norm2->forward(x))));
  return x;
}

ReconDecoderImpl::ReconDecoderImpl(const DecoderConfig& c) : cfg(c) {
  const auto& g = cfg.geometry;
  CB_CHECK(g.grid.size() == g.kernel.size() && g.grid.size() == g.stride.size() &&
               (g.grid.size() == 2 || g.grid.size() == 3),
           "decoder geometry: grid, kernel and stride must all be 2-D or all 3-D");
  input_proj = register_module("decoder_input_proj", nn::Linear(cfg.in_dim, cfg.trunk_dim));
  norm_d = register_module("decoder_input_norm", nn::LayerNorm(nn::LayerNormOptions({cfg.trunk_dim}).eps(1e-6)));
  embed = register_module("decoder_embed", nn::Linear(cfg.trunk_dim, cfg.width));
  blocks = register_module("decoder_blocks", nn::ModuleList());
  for (int64_t i = 0; i < cfg.depth; ++i) blocks->push_back(DecoderBlock(cfg.width, cfg.heads));
  norm_out = register_module("decoder_norm", nn::LayerNorm(nn::LayerNormOptions({cfg.width}).eps(1e-6)));
  if (g.grid.size() == 2) {
    head2d = register_module(
        "decoder_pred", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(cfg.width, g.out_channels, {g.kernel[0], g.kernel[1]})
                                                .stride({g.stride[0], g.stride[1]})));
  } else {
    head3d = register_module(
        "decoder_pred",
        nn::ConvTranspose3d(nn::ConvTranspose3dOptions(cfg.width, g.out_channels, {g.kernel[0], g.kernel[1], g.kernel[2]})
                                .stride({g.stride[0], g.stride[1], g.stride[2]})));
  }
}

torch::Tensor ReconDecoderImpl::forward(const torch::Tensor& z, const torch::Tensor& trunk,
                                        const torch::Tensor& pos_embed) {
  const int64_t B = z.size(0), L = z.size(1);
  CB_CHECK(z.dim() == 3 && z.size(2) == cfg.in_dim, "decoder: z must be (B, L, {}), got {}", cfg.in_dim,
           fmt::format("{}", fmt::join(z.sizes().vec(), "x")));
  CB_CHECK(L == cfg.geometry.num_patches() + 1, "decoder: {} tokens do not match the grid ({} patches + CLS)", L,
           cfg.geometry.num_patches());
  auto zt = trunk;  // (B·S, L, D_M)
  if (zt.size(0) != B) {
    CB_CHECK(zt.size(0) % B == 0, "decoder: trunk rows {} not a multiple of batch {}", zt.size(0), B);
    zt = zt.view({B, zt.size(0) / B, L, cfg.trunk_dim}).mean(1);  // average the S clips
  }
  auto x = norm_d->forward(input_proj->forward(z)) + norm_d->forward(zt) + pos_embed;  // (B, L, D_M)
  x = embed->forward(x);                                                               // (B, L, W)
  for (auto& blk : *blocks) x = blk->as<DecoderBlock>()->forward(x);
  x = norm_out->forward(x.slice(1, 1));  // drop CLS → (B, L−1, W)
  std::vector<int64_t> shape{B, cfg.width};
  for (int64_t g : cfg.geometry.grid) shape.push_back(g);
  x = x.transpose(1, 2).reshape(shape);  // (B, W, grid…)
  return head2d ? head2d->forward(x) : head3d->forward(x);
}

torch::Tensor reconstruction_target(const torch::Tensor& x, const DecoderGeometry& g) {
  auto out = g.output_shape();
  namespace F = torch::nn::functional;
  if (out.size() == 2) {
    auto xi = x.dim() == 5 ? x.mean(2) : x.dim() == 3 ? x.unsqueeze(2) : x;  // (B, C, H, W); 1-D signals (B, C, 1, T)
    return F::interpolate(xi, F::InterpolateFuncOptions().size(std::vector<int64_t>{out[0], out[1]})
                                  .mode(torch::kBilinear).align_corners(false));
  }
  auto xi = x.dim() == 5 ? x.mean(2) : x;
  auto r = F::interpolate(xi, F::InterpolateFuncOptions().size(std::vector<int64_t>{out[1], out[2]})
                                  .mode(torch::kBilinear).align_corners(false));  // (B, C, h, w)
  return r.unsqueeze(2).expand({r.size(0), r.size(1), out[0], out[1], out[2]}).contiguous();
}

}  // namespace cb
