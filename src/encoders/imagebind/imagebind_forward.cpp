// imagebind_forward.cpp — the forward stages of ImageBindModel (docs/imagebind.md §3–§5, §7):
// stems (Conv3d with 2-frame padding, Conv2d/Conv1d + LN, token embedding, IMU unfold-linear
// + LN), cls + positional embedding (bicubic interpolation for other vision sizes), pre-norm
// blocks with packed-QKV attention, add_bias_kv and the causal mask, heads, postprocessors
// and multi-clip averaging. Batch-first throughout: (N, L, D).
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/error.h"
#include "core/shape_str.h"
#include "encoders/imagebind/imagebind_model.h"

namespace cb {

namespace {

// LayerNorm in its weights' type. Under bf16 autocast (core/precision.h) a token tensor may
// arrive in bf16 while the weights stay fp32, which libtorch 1.13's CPU kernel refuses; the
// norm then runs in fp32 (and the next product goes back to bf16).
at::Tensor layer_norm_like_weights(const at::Tensor& x, int64_t D, const at::Tensor& w, const at::Tensor& b, double eps) {
  return at::layer_norm(x.scalar_type() == w.scalar_type() ? x : x.to(w.scalar_type()), {D}, w, b, eps);
}

}  // namespace

// ---- input layout ---------------------------------------------------------------------------

FlatInput ImageBindModel::flatten_clips(Modality m, const at::Tensor& input) const {
  const ModalityConfig& c = cfg_.at(m);
  CB_CHECK_INPUT(input.defined(), "{} input: empty tensor", c.name());
  FlatInput f;
  f.x = input;
  f.batch = input.dim() > 0 ? input.size(0) : 0;
  const bool clip_axis = c.stem_kind == StemKind::Conv3d ? input.dim() == 6 : input.dim() >= 5;
  if (clip_axis) {
    f.batch = input.size(0);
    f.clips = input.size(1);
    f.x = input.flatten(0, 1);  // (B·S, ...) sample-major, clip-minor
  }
  return f;
}

at::Tensor cut_causal_text(const at::Tensor& tokens, const at::Tensor& ids) {
  if (ids.numel() == 0) return tokens;
  // The end-of-text token has the largest id; argmax finds its first position per row.
  const int64_t keep = ids.argmax(-1).max().item<int64_t>() + 1;
  return tokens.narrow(1, 0, std::min<int64_t>(keep, tokens.size(1)));  // (N, keep, D)
}

// ---- stem, cls, positional embedding -------------------------------------------------------

at::Tensor ImageBindModel::stem(Modality m, const at::Tensor& input) const {
  const ModalityConfig& c = cfg_.at(m);
  const std::string n = c.name();
  at::Tensor x = input;
  const at::Tensor& w = param(c.stem_weight_key());
  if (c.stem_kind == StemKind::TokenEmbedding) {
    CB_CHECK_INPUT(x.dim() == 2 && x.size(1) == c.context_length && !at::isFloatingType(x.scalar_type()),
                   "text input: expected integer token ids (N, {}), found {} {}", c.context_length,
                   c10::toString(x.scalar_type()), shape_str(x.sizes()));
    x = x.to(w.device(), at::kLong);
    if (x.numel() > 0) {
      int64_t lo = x.min().item<int64_t>(), hi = x.max().item<int64_t>();
      CB_CHECK_INPUT(lo >= 0 && hi < c.vocab_size, "text input: token id {} outside [0, {})", lo < 0 ? lo : hi,
                     c.vocab_size);
    }
    return at::embedding(w, x);  // (N, 77, D)
  }
  x = x.to(w.device(), w.scalar_type());
  const at::Tensor bias = c.stem_bias ? param(c.stem_bias_key()) : at::Tensor();
  at::Tensor t;
  switch (c.stem_kind) {
    case StemKind::Conv3d: {
      // PadIm2Video(repeat): (N,C,H,W) → (N,C,1,H,W) → repeat to T = video_frames.
      if (x.dim() == 4) x = x.unsqueeze(2);
      CB_CHECK_INPUT(x.dim() == 5 && x.size(1) == c.in_channels,
                     "{} input: expected (N,{},H,W) images, (N,{},T,H,W) clips or (B,S,{},T,H,W) video, found {}", n,
                     c.in_channels, c.in_channels, c.in_channels, shape_str(input.sizes()));
      if (x.size(2) == 1 && c.video_frames > 1) x = x.repeat({1, 1, c.video_frames, 1, 1});
      CB_CHECK_INPUT(x.size(2) >= c.kernel[0] && x.size(3) >= c.kernel[1] && x.size(4) >= c.kernel[2],
                     "{} input {} is smaller than the patch kernel", n, shape_str(input.sizes()));
      t = at::conv3d(x, w, bias, c.stride);  // (N, D, t, h, w)
      break;
    }
    case StemKind::Conv2d:
      CB_CHECK_INPUT(x.dim() == 4 && x.size(1) == c.in_channels && x.size(2) >= c.kernel[0] &&
                         x.size(3) >= c.kernel[1],
                     "{} input: expected (N,{},H,W) or (B,S,{},H,W) with H,W ≥ kernel, found {}", n, c.in_channels,
                     c.in_channels, shape_str(input.sizes()));
      t = at::conv2d(x, w, bias, c.stride);  // (N, D, h, w)
      break;
    case StemKind::Conv1d:
      CB_CHECK_INPUT(x.dim() == 3 && x.size(1) == c.in_channels && x.size(2) >= c.kernel[0],
                     "{} input: expected (N,{},T), found {}", n, c.in_channels, shape_str(input.sizes()));
      t = at::conv1d(x, w, bias, c.stride);  // (N, D, T')
      break;
    case StemKind::Linear: {
      CB_CHECK_INPUT(x.dim() == 3 && x.size(1) == c.in_channels && x.size(2) >= c.kernel[0],
                     "{} input: expected (N,{},T), found {}", n, c.in_channels, shape_str(input.sizes()));
      // unfold → (N, C, P, k) → (N, P, C, k) → (N, P, C·k): feature = channel·k + offset.
      at::Tensor p = x.unfold(-1, c.kernel[0], c.stride[0]).permute({0, 2, 1, 3});
      p = p.reshape({p.size(0), p.size(1), -1});
      at::Tensor y = at::linear(p, w, bias);  // (N, P, D)
      if (c.stem_ln_eps) {
        const std::string ln = c.stem_norm_prefix();
        y = layer_norm_like_weights(y, c.embed_dim, param(ln + ".weight"), param(ln + ".bias"), *c.stem_ln_eps);
      }
      return y;
    }
    default: break;
  }
  t = t.flatten(2).transpose(1, 2);  // (N, P, D), patches row-major
  if (c.stem_ln_eps) {
    const std::string ln = c.stem_norm_prefix();
    t = layer_norm_like_weights(t, c.embed_dim, param(ln + ".weight"), param(ln + ".bias"), *c.stem_ln_eps);
  }
  return t;
}

at::Tensor ImageBindModel::pos_embed(Modality m) const { return param(cfg_.at(m).pos_embed_key); }

at::Tensor ImageBindModel::pos_embed_for(Modality m, int64_t num_patches) const {
  const ModalityConfig& c = cfg_.at(m);
  at::Tensor pos = pos_embed(m);  // (1, L, D)
  if (num_patches == c.num_patches) return pos;
  // Only the vision preprocessor interpolates (docs/imagebind.md §3.3): a (1, g, g) layout, square target.
  const bool square_2d = c.stem_kind == StemKind::Conv3d && c.patch_grid.size() == 3 && c.patch_grid[0] == 1 &&
                         c.patch_grid[1] == c.patch_grid[2];
  CB_CHECK_INPUT(square_2d, "{} input gives {} patches but the positional embedding has {} (only vision "
                            "interpolates; use the configured input size {})",
                 c.name(), num_patches, c.num_patches, shape_str(c.input_shape));
  const int64_t g = c.patch_grid[1];
  const int64_t side = static_cast<int64_t>(std::llround(std::sqrt(double(num_patches))));
  CB_CHECK_INPUT(side * side == num_patches, "{} input: {} patches is not a square grid", c.name(), num_patches);
  const double scale = std::sqrt(double(num_patches) / double(c.num_patches));
  const int64_t out = static_cast<int64_t>(std::floor(double(g) * scale));
  CB_CHECK_INPUT(out == side, "{} input: cannot interpolate the {}x{} positional grid to {}x{}", c.name(), g, g,
                 side, side);
  const int64_t D = c.embed_dim, k = c.num_cls_tokens;
  at::Tensor cls = pos.narrow(1, 0, k);                                              // (1, k, D)
  at::Tensor grid = pos.narrow(1, k, c.num_patches).reshape({1, g, g, D}).permute({0, 3, 1, 2});
  bool low = grid.scalar_type() != at::kFloat;
  if (low) grid = grid.to(at::kFloat);
  // F.interpolate(mode="bicubic", scale_factor=√(new/old)): the factor itself feeds the kernel.
  at::Tensor up = at::upsample_bicubic2d(grid, {side, side}, /*align_corners=*/false, scale, scale);
  if (low) up = up.to(pos.scalar_type());
  up = up.permute({0, 2, 3, 1}).reshape({1, side * side, D});
  return at::cat({cls, up}, 1);  // (1, k + side², D)
}

at::Tensor ImageBindModel::tokens(Modality m, const at::Tensor& input) const {
  const ModalityConfig& c = cfg_.at(m);
  FlatInput f = flatten_clips(m, input);
  at::Tensor t = stem(m, f.x);  // (N, P, D)
  const int64_t N = t.size(0), P = t.size(1);
  if (c.num_cls_tokens > 0) t = at::cat({param(c.cls_key()).expand({N, -1, -1}), t}, 1);
  if (c.stem_kind == StemKind::TokenEmbedding || c.stem_kind == StemKind::Linear || c.stem_kind == StemKind::Conv1d)
    CB_CHECK_INPUT(P == c.num_patches, "{} input: {} tokens but the positional embedding has {}", c.name(), P,
                   c.num_patches);
  return t + pos_embed_for(m, P);  // (N, L, D)
}

// ---- trunk ----------------------------------------------------------------------------------

at::Tensor ImageBindModel::linear(const std::string& w, const std::string& b, const at::Tensor& x,
                                  const LoraAdapters* lora) const {
  at::Tensor y = at::linear(x, param(w), b.empty() ? at::Tensor() : param(b));
  if (lora && lora->adapts(w)) y = lora->apply(w, x, y);
  return y;
}

at::Tensor ImageBindModel::attention(const ModalityConfig& c, int64_t block, const at::Tensor& x,
                                     const LoraAdapters* lora) const {
  const std::string p = c.block_key(block) + "attn.";
  const int64_t N = x.size(0), L = x.size(1), D = c.embed_dim, H = c.num_heads, hd = D / H;
  at::Tensor qkv = linear(p + "in_proj_weight", p + "in_proj_bias", x, lora);  // (N, L, 3D) rows [Wq;Wk;Wv]
  qkv = qkv.view({N, L, 3, H, hd}).permute({2, 0, 3, 1, 4});                    // (3, N, H, L, hd)
  at::Tensor q = qkv[0], k = qkv[1], v = qkv[2];
  if (c.add_bias_kv) {
    // One learned key/value appended after projection (not projected, not scaled).
    at::Tensor bk = param(p + "bias_k").view({1, H, 1, hd}).expand({N, H, 1, hd});
    at::Tensor bv = param(p + "bias_v").view({1, H, 1, hd}).expand({N, H, 1, hd});
    k = at::cat({k, bk}, 2);  // (N, H, L+1, hd)
    v = at::cat({v, bv}, 2);
  }
  q = q / std::sqrt(double(hd));                    // PyTorch scales q before the product
  at::Tensor s = at::matmul(q, k.transpose(-2, -1));  // (N, H, L, Lk)
  if (c.causal) {
    at::Tensor mask = param(c.mask_key);  // (L, L) additive, −inf above the diagonal
    CB_CHECK_INPUT(mask.size(0) >= L, "{}: causal mask is {}x{} but the sequence has {} tokens", c.name(),
                   mask.size(0), mask.size(1), L);
    if (mask.size(0) > L) mask = mask.narrow(0, 0, L).narrow(1, 0, L);  // a cut text sequence
    if (c.add_bias_kv) mask = at::constant_pad_nd(mask, {0, 1}, 0.0);
    s = s + mask;
  }
  s = at::softmax(s, -1);
  at::Tensor o = at::matmul(s, v);                       // (N, H, L, hd)
  o = o.permute({0, 2, 1, 3}).reshape({N, L, D});        // merge heads
  return linear(p + "out_proj.weight", p + "out_proj.bias", o, lora);  // (N, L, D)
}

at::Tensor ImageBindModel::drop_path(const at::Tensor& x, double p) const {
  if (!training_ || p <= 0.0) return x;
  // The reference runs blocks sequence-first, so timm's DropPath mask has shape (L, 1, 1): it
  // drops token positions shared across the batch. Replicated here as (1, L, 1).
  const double keep = 1.0 - p;
  at::Tensor mask = at::empty({1, x.size(1), 1}, at::kFloat).bernoulli_(keep, gen_);
  mask.div_(keep);
  return x * mask.to(x.device(), x.scalar_type());
}

at::Tensor ImageBindModel::block_forward(const ModalityConfig& c, int64_t i, const at::Tensor& x,
                                         const LoraAdapters* lora) const {
  const std::string b = c.block_key(i);
  const double dp = c.num_blocks > 1 ? c.drop_path * double(i) / double(c.num_blocks - 1) : 0.0;  // linspace
  const int64_t D = c.embed_dim;
  at::Tensor h = layer_norm_like_weights(x, D, param(b + "norm_1.weight"), param(b + "norm_1.bias"), c.block_ln_eps);
  at::Tensor y = x + drop_path(attention(c, i, h, lora), dp);
  h = layer_norm_like_weights(y, D, param(b + "norm_2.weight"), param(b + "norm_2.bias"), c.block_ln_eps);
  h = linear(b + "mlp.fc1.weight", b + "mlp.fc1.bias", h, lora);  // (N, L, M)
  h = at::gelu(h);                                                 // exact (erf)
  h = linear(b + "mlp.fc2.weight", b + "mlp.fc2.bias", h, lora);  // (N, L, D)
  return y + drop_path(h, dp);
}

at::Tensor ImageBindModel::trunk(Modality m, const at::Tensor& tokens, const LoraAdapters* lora,
                                 TrunkTrace* trace) const {
  const ModalityConfig& c = cfg_.at(m);
  CB_CHECK_INPUT(tokens.dim() == 3 && tokens.size(2) == c.embed_dim, "{} trunk: expected (N, L, {}), found {}",
                 c.name(), c.embed_dim, shape_str(tokens.sizes()));
  if (lora) CB_CHECK_INPUT(lora->modality == m, "LoRA adapters for '{}' used on the '{}' trunk",
                           modality_name(lora->modality), c.name());
  at::Tensor x = tokens;
  if (c.pre_ln_eps) {
    x = layer_norm_like_weights(x, c.embed_dim, param(c.pre_ln_prefix() + ".weight"), param(c.pre_ln_prefix() + ".bias"),
                       *c.pre_ln_eps);
    if (trace) trace->pre_ln = x;
  }
  for (int64_t i = 0; i < c.num_blocks; ++i) {
    x = block_forward(c, i, x, lora);
    if (trace) trace->blocks.push_back(x);
  }
  return x;  // (N, L, D)
}

// ---- heads and postprocessors -----------------------------------------------------------

at::Tensor ImageBindModel::head_all_tokens(Modality m, const at::Tensor& trunk_out) const {
  const ModalityConfig& c = cfg_.at(m);
  CB_CHECK_INPUT(c.head_order == HeadOrder::LayerNormAllThenSelect,
                 "{} has no per-token head output (it pools the end-of-text token)", c.name());
  const std::string ln = c.head_ln_prefix();
  at::Tensor x = layer_norm_like_weights(trunk_out, c.embed_dim, param(ln + ".weight"), param(ln + ".bias"), c.head_ln_eps);
  return at::linear(x, param(c.head_proj_key));  // (N, L, out)
}

at::Tensor ImageBindModel::head(Modality m, const at::Tensor& trunk_out, const at::Tensor& text_ids) const {
  const ModalityConfig& c = cfg_.at(m);
  const std::string ln = c.head_ln_prefix();
  const int64_t N = trunk_out.size(0);
  at::Tensor x;
  if (c.head_order == HeadOrder::SelectThenLayerNorm) {
    CB_CHECK_INPUT(text_ids.defined() && text_ids.dim() == 2 && text_ids.size(0) == N,
                   "{} head: the token ids (N, L) are needed to find the end-of-text position", c.name());
    at::Tensor eot = text_ids.argmax(-1).to(trunk_out.device());  // first maximum
    x = trunk_out.index({at::arange(N, eot.options()), eot});        // (N, D)
    x = layer_norm_like_weights(x, c.embed_dim, param(ln + ".weight"), param(ln + ".bias"), c.head_ln_eps);
  } else {
    x = layer_norm_like_weights(trunk_out, c.embed_dim, param(ln + ".weight"), param(ln + ".bias"), c.head_ln_eps);
    x = x.select(1, c.select_token);  // (N, D)
    if (training_ && c.head_dropout > 0) {
      const double keep = 1.0 - c.head_dropout;
      at::Tensor mask = at::empty(x.sizes(), at::kFloat).bernoulli_(keep, gen_).div_(keep);
      x = x * mask.to(x.device(), x.scalar_type());
    }
  }
  return at::linear(x, param(c.head_proj_key));  // (N, out), no bias
}

at::Tensor ImageBindModel::logit_scale(Modality m) const {
  const ModalityConfig& c = cfg_.at(m);
  if (c.logit_scale_key.empty()) return at::ones({}, at::TensorOptions().dtype(dtype()).device(device()));
  return at::clamp_max(param(c.logit_scale_key).exp(), c.logit_scale_max);
}

at::Tensor ImageBindModel::postprocess(Modality m, const at::Tensor& head_out) const {
  const ModalityConfig& c = cfg_.at(m);
  // F.normalize: x / max(‖x‖, eps), then × min(exp(s), max).
  at::Tensor x = head_out / head_out.norm(2, {-1}, true).clamp_min(c.normalize_eps).expand_as(head_out);
  if (!c.logit_scale_key.empty()) x = logit_scale(m) * x;
  return x;
}

at::Tensor ImageBindModel::head_embedding(Modality m, const at::Tensor& input, const LoraAdapters* lora) const {
  at::Tensor t = tokens(m, input);
  if (cfg_.at(m).causal) t = cut_causal_text(t, input);
  return head(m, trunk(m, t, lora), input);  // (N, out)
}

at::Tensor ImageBindModel::embed(Modality m, const at::Tensor& input, const LoraAdapters* lora) const {
  FlatInput f = flatten_clips(m, input);
  at::Tensor p = postprocess(m, head_embedding(m, f.x, lora));  // (N, out)
  if (f.clips > 1 || f.x.dim() < input.dim()) p = p.view({f.batch, f.clips, -1}).mean(1);  // not re-normalised
  return p;
}

}  // namespace cb
