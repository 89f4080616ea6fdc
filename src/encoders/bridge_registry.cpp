// bridge_registry.cpp — the backbones codebind knows, by name. Adding one (ViT-Lens for
// CodeBind-VL, say) is its folder under encoders/ plus one line in kBridges below; see
// docs/howto-add-backbone.md.
#include <fmt/ranges.h>

#include "core/error.h"
#include "core/json_read.h"
#include "encoders/bridge.h"
#include "encoders/imagebind/imagebind_model.h"

namespace cb {
namespace {

struct BridgeKind {
  const char* name;
  const char* config_key;  // the weight file's metadata key holding the architecture
  // Builds the towers `which` from a config, no weights.
  std::unique_ptr<Bridge> (*make)(const nlohmann::json& config, const std::vector<Modality>& which,
                                  const std::string& where);
  // The architecture a weight file records (a kind may patch up older files here).
  nlohmann::json (*config_of)(const WeightFile& f);
};

const BridgeKind kBridges[] = {
    {"imagebind", "imagebind_config",
     [](const nlohmann::json& j, const std::vector<Modality>& which, const std::string& where) -> std::unique_ptr<Bridge> {
       return std::make_unique<ImageBindModel>(ImageBindConfig::from_json(j, where), which);
     },
     [](const WeightFile& f) { return ImageBindConfig::of_file(f).to_json(); }},
};

const BridgeKind& find_kind(const std::string& kind, const std::string& where) {
  for (const BridgeKind& k : kBridges)
    if (kind == k.name) return k;
  fail_input("{}: unknown bridge kind '{}' (known: {})", where, kind, fmt::join(bridge_kinds(), ", "));
}

}  // namespace

std::vector<std::string> bridge_kinds() {
  std::vector<std::string> out;
  for (const BridgeKind& k : kBridges) out.emplace_back(k.name);
  return out;
}

std::string bridge_config_key(const std::string& kind) { return find_kind(kind, "bridge").config_key; }

std::unique_ptr<Bridge> make_bridge(const std::string& kind, const nlohmann::json& config,
                                    const std::vector<Modality>& which, const std::string& where) {
  return find_kind(kind, where).make(config, which, where);
}

nlohmann::json bridge_config_of(const WeightFile& f, std::string* kind) {
  const std::string k = f.meta("bridge").empty() ? "imagebind" : f.meta("bridge");
  if (kind) *kind = k;
  return find_kind(k, f.path() + " (metadata bridge)").config_of(f);
}

std::unique_ptr<Bridge> open_bridge(const WeightFile& f, const std::vector<Modality>& which) {
  std::string kind;
  const nlohmann::json cfg = bridge_config_of(f, &kind);
  std::unique_ptr<Bridge> b = make_bridge(kind, cfg, which, f.path());
  b->load(f);
  return b;
}

}  // namespace cb
