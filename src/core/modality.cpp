// modality.cpp — see modality.h. One row per modality: its canonical name and item layout.
#include "core/modality.h"

#include <fmt/format.h>

#include "core/error.h"

namespace cb {
namespace {

struct ModalityInfo {
  Modality modality;
  const char* name;
  ItemLayout layout;
};

constexpr ModalityInfo kModalityInfo[] = {
    {Modality::Vision, "vision", ItemLayout::Image},   {Modality::Text, "text", ItemLayout::Text},
    {Modality::Audio, "audio", ItemLayout::Audio},     {Modality::Depth, "depth", ItemLayout::Map},
    {Modality::Thermal, "thermal", ItemLayout::Map},   {Modality::Imu, "imu", ItemLayout::Imu},
    {Modality::Tactile, "tactile", ItemLayout::Image}, {Modality::Eeg, "eeg", ItemLayout::Signal},
    {Modality::Point, "point", ItemLayout::Cloud},
};
static_assert(std::size(kModalityInfo) == kAllModalities.size(), "one row per modality");

const ModalityInfo* find_info(Modality m) {
  for (const ModalityInfo& i : kModalityInfo)
    if (i.modality == m) return &i;
  return nullptr;
}

}  // namespace

const char* modality_name(Modality m) {
  const ModalityInfo* i = find_info(m);
  return i ? i->name : "?";
}

ItemLayout item_layout(Modality m) {
  const ModalityInfo* i = find_info(m);
  CB_CHECK(i != nullptr, "modality value {} has no row in kModalityInfo", static_cast<int>(m));
  return i->layout;
}

Modality parse_modality(const std::string& name, const std::string& where) {
  std::string known;
  for (const ModalityInfo& i : kModalityInfo) {
    if (name == i.name) return i.modality;
    known += known.empty() ? "" : ", ";
    known += i.name;
  }
  fail_input("{}: unknown modality '{}' (expected one of {})", where, name, known);
}

}  // namespace cb
