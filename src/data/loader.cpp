// loader.cpp — see loader.h. Worker threads decode the batches of the current epoch into
// slots; next() hands them out in order, so the result never depends on the thread count.
#include "data/loader.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/error.h"

namespace cb::data {

namespace {

// Fisher–Yates with the suite's generator (portable, deterministic).
template <class T>
void shuffle_with(std::vector<T>& v, SuiteRng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(rng.index(static_cast<int64_t>(i)))]);
}

}  // namespace

Batch make_batch(const std::vector<const Item*>& items, const std::vector<at::Tensor>& tensors) {
  CB_CHECK(items.size() == tensors.size() && !items.empty(), "make_batch: {} items, {} tensors", items.size(),
           tensors.size());
  for (size_t i = 1; i < tensors.size(); ++i)
    CB_CHECK_INPUT(tensors[i].sizes() == tensors[0].sizes(),
                   "{} (item '{}'): decoded shape [{}] differs from [{}] of item '{}' in the same batch",
                   items[i]->file, items[i]->id, fmt::join(tensors[i].sizes(), ", "),
                   fmt::join(tensors[0].sizes(), ", "), items[0]->id);
  Batch b;
  b.input = at::stack(tensors);
  std::vector<int64_t> labels;
  for (auto* it : items) labels.push_back(it->label());
  b.labels = at::tensor(labels, at::kLong);
  b.items = items;
  return b;
}

struct DataLoader::Impl {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<const Item*>> batches;  // current epoch
  std::vector<std::unique_ptr<Batch>> ready;       // decoded slots
  std::vector<std::string> errors;
  size_t next_decode = 0, next_out = 0;
  bool stop = false;
  std::vector<std::thread> threads;
};

DataLoader::DataLoader(std::vector<const Item*> items, ItemDecoder decode, LoaderOptions opt)
    : items_(std::move(items)), decode_(std::move(decode)), opt_(opt), impl_(std::make_unique<Impl>()) {
  CB_CHECK_INPUT(opt_.batch_size > 0, "data loader: batch size must be positive, got {}", opt_.batch_size);
}

DataLoader::DataLoader(const Manifest& m, Modality modality, const std::string& split, ItemDecoder decode,
                       LoaderOptions opt)
    : DataLoader(m.select(modality, split), std::move(decode), opt) {
  CB_CHECK_INPUT(!items_.empty(), "{}/items.jsonl: no {} items in split '{}'", m.dir(), modality_name(modality),
                 split);
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->threads) t.join();
}

std::vector<const Item*> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<const Item*> order = items_;
  if (opt_.shuffle) {
    SuiteRng rng(mix_seed(opt_.seed, 0x10ade7, static_cast<uint64_t>(epoch)));
    shuffle_with(order, rng);
  }
  return order;
}

int64_t DataLoader::num_batches() const {
  const int64_t n = size(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::start_epoch(int64_t epoch) {
  // Stop the previous epoch's workers.
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();

  auto order = epoch_order(epoch);
  impl_->batches.clear();
  for (int64_t b = 0; b < num_batches(); ++b) {
    const size_t lo = static_cast<size_t>(b * opt_.batch_size);
    const size_t hi = std::min(order.size(), lo + static_cast<size_t>(opt_.batch_size));
    impl_->batches.emplace_back(order.begin() + lo, order.begin() + hi);
  }
  impl_->ready.clear();
  impl_->ready.resize(impl_->batches.size());
  impl_->errors.assign(impl_->batches.size(), "");
  impl_->next_decode = impl_->next_out = 0;
  impl_->stop = false;
  Impl* im = impl_.get();
  const size_t ahead = static_cast<size_t>(std::max(1, opt_.prefetch));
  auto work = [this, im, ahead]() {
    for (;;) {
      size_t k;
      {
        std::unique_lock<std::mutex> lock(im->mu);
        im->cv.wait(lock, [&] {
          return im->stop || im->next_decode >= im->batches.size() || im->next_decode < im->next_out + ahead;
        });
        if (im->stop || im->next_decode >= im->batches.size()) return;
        k = im->next_decode++;
      }
      std::unique_ptr<Batch> b;
      std::string err;
      try {
        std::vector<at::Tensor> ts;
        for (auto* it : im->batches[k]) ts.push_back(decode_(*it));
        b = std::make_unique<Batch>(make_batch(im->batches[k], ts));
      } catch (const std::exception& e) {
        err = e.what();
      }
      {
        std::lock_guard<std::mutex> lock(im->mu);
        im->errors[k] = (!b && err.empty()) ? "data loader: decoding failed" : err;
        im->ready[k] = std::move(b);
      }
      im->cv.notify_all();
    }
  };
  for (int t = 0; t < opt_.workers; ++t) impl_->threads.emplace_back(work);
}

bool DataLoader::next(Batch& out) {
  Impl* im = impl_.get();
  if (im->next_out >= im->batches.size()) return false;
  const size_t k = im->next_out;
  if (opt_.workers <= 0) {  // decode on this thread
    std::vector<at::Tensor> ts;
    for (auto* it : im->batches[k]) ts.push_back(decode_(*it));
    out = make_batch(im->batches[k], ts);
    ++im->next_out;
    return true;
  }
  std::unique_lock<std::mutex> lock(im->mu);
  im->cv.wait(lock, [&] { return im->ready[k] != nullptr || !im->errors[k].empty(); });
  if (!im->errors[k].empty()) throw InputError(im->errors[k]);
  out = std::move(*im->ready[k]);
  im->ready[k].reset();
  ++im->next_out;
  lock.unlock();
  im->cv.notify_all();
  return true;
}

PairSampler::PairSampler(std::vector<const Item*> bridge, std::vector<const Item*> target, uint64_t seed,
                         bool balance_classes)
    : bridge_(std::move(bridge)), target_(std::move(target)), seed_(seed), balance_(balance_classes) {
  CB_CHECK_INPUT(!bridge_.empty() && !target_.empty(), "pair sampler: {} bridge and {} target items", bridge_.size(),
                 target_.size());
  for (auto* b : bridge_) {
    bridge_by_class_[b->label()].push_back(b);
    if (!b->group.empty()) bridge_by_group_[b->group].push_back(b);
  }
  for (auto* t : target_) {
    target_by_class_[t->label()].push_back(t);
    if (!(t->group.size() && bridge_by_group_.count(t->group)))
      CB_CHECK_INPUT(bridge_by_class_.count(t->label()), "{} (item '{}'): no bridge item of class {} to pair with",
                     t->file, t->id, t->label());
  }
}

std::vector<Pair> PairSampler::epoch(int64_t epoch) const {
  SuiteRng rng(mix_seed(seed_, 0x9a1e5, static_cast<uint64_t>(epoch)));
  std::vector<const Item*> targets;
  if (balance_) {
    size_t mx = 0;
    for (auto& [c, v] : target_by_class_) mx = std::max(mx, v.size());
    for (auto& [c, v] : target_by_class_) {  // every class mx times: all items, then a seeded resample
      std::vector<const Item*> vv = v;
      shuffle_with(vv, rng);
      for (size_t i = 0; i < mx; ++i) targets.push_back(vv[i % vv.size()]);
    }
  } else {
    targets = target_;
  }
  shuffle_with(targets, rng);
  std::vector<Pair> out;
  out.reserve(targets.size());
  for (auto* t : targets) {
    const std::vector<const Item*>* pool = nullptr;
    if (!t->group.empty()) {
      auto g = bridge_by_group_.find(t->group);
      if (g != bridge_by_group_.end()) pool = &g->second;
    }
    if (!pool) pool = &bridge_by_class_.at(t->label());
    out.push_back({rng.pick(*pool), t});
  }
  return out;
}

std::vector<std::vector<Pair>> PairSampler::batches(int64_t ep, int64_t batch_size, bool drop_last) const {
  CB_CHECK_INPUT(batch_size > 0, "pair sampler: batch size must be positive");
  auto pairs = epoch(ep);
  std::vector<std::vector<Pair>> out;
  for (size_t i = 0; i < pairs.size(); i += static_cast<size_t>(batch_size)) {
    const size_t hi = std::min(pairs.size(), i + static_cast<size_t>(batch_size));
    if (drop_last && hi - i < static_cast<size_t>(batch_size)) break;
    out.emplace_back(pairs.begin() + i, pairs.begin() + hi);
  }
  return out;
}

}  // namespace cb::data
