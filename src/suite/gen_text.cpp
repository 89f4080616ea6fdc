// gen_text.cpp — sensor-suite text: the number spelled out by ICU's RuleBasedNumberFormat
// (spell-out rules) in several languages and formats (word, Title, UPPER, numeral, Roman),
// optionally inside a template. Text items are inline. attrs: language, format, template.
#include "core/error.h"
#include "suite/suite_gen.h"

#ifdef CODEBIND_HAVE_ICU
#include <unicode/locid.h>
#include <unicode/rbnf.h>
#include <unicode/unistr.h>
#endif

namespace cb::suite {

namespace {

const char* kRoman[10] = {"N", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"};  // N = nulla

class TextGenerator : public ModalityGenerator {
 public:
  explicit TextGenerator(const nlohmann::json& cfg) {
    languages_ = cfg_strings(cfg, "languages");
    formats_ = cfg_strings(cfg, "formats");
    templates_ = cfg_strings(cfg, "templates");
    template_prob_ = cfg.value("template_prob", 0.5);
    CB_CHECK_INPUT(!languages_.empty() && !formats_.empty(), "sensor-suite config: text.languages/formats empty");
    for (const auto& f : formats_)
      CB_CHECK_INPUT(f == "word" || f == "title" || f == "upper" || f == "numeral" || f == "roman",
                     "sensor-suite config: unknown text format '{}' (word, title, upper, numeral, roman)", f);
    // Spell-outs are computed once here (ICU formatters are not shared across threads).
    for (const auto& lang : languages_) {
      std::vector<std::array<std::string, 3>> forms;  // word, Title, UPPER per digit
#ifdef CODEBIND_HAVE_ICU
      UErrorCode st = U_ZERO_ERROR;
      icu::RuleBasedNumberFormat rbnf(icu::URBNF_SPELLOUT, icu::Locale(lang.c_str()), st);
      CB_CHECK_INPUT(U_SUCCESS(st), "sensor-suite config: ICU has no spell-out rules for '{}'", lang);
      for (int d = 0; d < 10; ++d) {
        icu::UnicodeString u;
        rbnf.format(static_cast<int32_t>(d), u);
        std::string w, t, up;
        icu::UnicodeString lo = u;
        lo.toLower(icu::Locale(lang.c_str()));
        lo.toUTF8String(w);
        icu::UnicodeString ti = lo;
        ti.toTitle(nullptr, icu::Locale(lang.c_str()));
        ti.toUTF8String(t);
        icu::UnicodeString upu = lo;
        upu.toUpper(icu::Locale(lang.c_str()));
        upu.toUTF8String(up);
        forms.push_back({w, t, up});
      }
#else
      fail_input("sensor-suite text needs ICU (not found at build time)");
#endif
      spell_.push_back(std::move(forms));
    }
  }
  const char* modality() const override { return "text"; }
  const char* extension() const override { return ""; }
  double cost() const override { return 0.01; }

  GenResult make(int label, int64_t, data::SuiteRng& rng, const std::string&, const Scene&) const override {
    const size_t li = static_cast<size_t>(rng.index(static_cast<int64_t>(languages_.size())));
    const std::string& fmt_name = rng.pick(formats_);
    std::string s;
    if (fmt_name == "numeral") s = std::to_string(label);
    else if (fmt_name == "roman") s = kRoman[label];
    else s = spell_[li][static_cast<size_t>(label)][fmt_name == "word" ? 0 : fmt_name == "title" ? 1 : 2];
    std::string tmpl = "{}";
    if (!templates_.empty() && rng.uniform() < template_prob_) tmpl = rng.pick(templates_);
    GenResult r;
    const size_t pos = tmpl.find("{}");
    r.text = pos == std::string::npos ? s : tmpl.substr(0, pos) + s + tmpl.substr(pos + 2);
    r.attrs = {{"language", languages_[li]}, {"format", fmt_name}, {"template", tmpl}};
    return r;
  }

 private:
  std::vector<std::string> languages_, formats_, templates_;
  double template_prob_;
  std::vector<std::vector<std::array<std::string, 3>>> spell_;
};

}  // namespace

std::unique_ptr<ModalityGenerator> make_text_generator(const nlohmann::json& cfg) {
  return std::make_unique<TextGenerator>(cfg);
}

}  // namespace cb::suite
