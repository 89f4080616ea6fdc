// loader.h — streams the items of one (split, modality) of a manifest as tensors.
//
// DataLoader: seeded-shuffled batches, decoded by worker threads through an ItemDecoder the
// trainer supplies (so preprocessing choices stay with the model config). Order depends only
// on (seed, epoch), never on the number of workers.
// PairSampler: class-balanced (bridge item, target item) pairs for binding — items sharing a
// `group` are natural pairs; otherwise pairs are drawn by class (ImageBind-style).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "data/suite_rng.h"  // mix_seed, SuiteRng

namespace cb::data {

// Turns one item (file or inline text) into a tensor; must be thread-safe.
using ItemDecoder = std::function<at::Tensor(const Item&)>;

struct Batch {
  at::Tensor input;                // stacked decoder outputs (B, ...)
  at::Tensor labels;               // (B,) int64 first label of each item
  std::vector<const Item*> items;  // the items, in batch order
};

struct LoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int workers = 2;      // decoding threads (0 = decode on the caller's thread)
  int prefetch = 2;     // batches decoded ahead
};

class DataLoader {
 public:
  DataLoader(std::vector<const Item*> items, ItemDecoder decode, LoaderOptions opt);
  DataLoader(const Manifest& m, Modality modality, const std::string& split, ItemDecoder decode,
             LoaderOptions opt);
  ~DataLoader();

  // Starts epoch `epoch` (order = shuffle(seed, epoch)). Must be called before next().
  void start_epoch(int64_t epoch);
  // Next batch of the current epoch; false when the epoch is done.
  bool next(Batch& out);
  int64_t num_batches() const;
  int64_t size() const { return static_cast<int64_t>(items_.size()); }
  // The item order of an epoch (for tests / reproducibility).
  std::vector<const Item*> epoch_order(int64_t epoch) const;

 private:
  struct Impl;
  std::vector<const Item*> items_;
  ItemDecoder decode_;
  LoaderOptions opt_;
  std::unique_ptr<Impl> impl_;
};

// Stacks decoder outputs into a Batch (same shapes required; InputError naming the item).
Batch make_batch(const std::vector<const Item*>& items, const std::vector<at::Tensor>& tensors);

struct Pair {
  const Item* bridge;  // e.g. vision or text
  const Item* target;  // e.g. imu
};

// Class-balanced pairs for one epoch. Each epoch visits every target item once (order
// shuffled by (seed, epoch)); its bridge partner is an item of the same group if the target
// has a group and the group contains a bridge item, else a uniformly drawn bridge item of the
// same class. With `balance_classes`, targets are resampled so every class appears equally
// often (epoch length = num_classes * max class count). Deterministic for (seed, epoch).
class PairSampler {
 public:
  PairSampler(std::vector<const Item*> bridge, std::vector<const Item*> target, uint64_t seed,
              bool balance_classes = true);
  std::vector<Pair> epoch(int64_t epoch) const;
  // Batches of pairs of one epoch (last partial batch kept unless drop_last).
  std::vector<std::vector<Pair>> batches(int64_t epoch, int64_t batch_size, bool drop_last = false) const;

 private:
  std::vector<const Item*> bridge_, target_;
  uint64_t seed_;
  bool balance_;
  std::map<int, std::vector<const Item*>> bridge_by_class_;
  std::map<std::string, std::vector<const Item*>> bridge_by_group_;
  std::map<int, std::vector<const Item*>> target_by_class_;
};


}  // namespace cb::data
