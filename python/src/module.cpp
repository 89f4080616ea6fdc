// module.cpp — the native half of the `codebind` Python package (pybind11): the CodeBind run
// model (embed files, texts or tensors), the multimodal quantiser, the code index, manifests,
// and the train / evaluate jobs. Tensors cross the boundary as torch.Tensor without a copy
// (libtorch_python's caster wraps the same TensorImpl); python/codebind/*.py is the public face.
// Long calls release the GIL; cb::InputError arrives as codebind.InputError with its message.
#include <pybind11/stl.h>
#include <torch/csrc/utils/pybind.h>

#include <nlohmann/json.hpp>

#include "bindings.h"

#include "app/embed_split.h"
#include "app/index_run.h"
#include "app/run_eval.h"
#include "core/error.h"
#include "core/precision.h"
#include "core/threads.h"
#include "data/manifest.h"
#include "io/safetensors.h"
#include "quant/multimodal_quantiser.h"
#include "train/trainer.h"

namespace py = pybind11;

namespace cb::python {
namespace {

// nlohmann::json → Python objects through the json module (metrics are small).
py::object to_python(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

// d[key] = t for the tensors that are defined (a modality without a specific half has none).
py::dict defined_tensors(std::initializer_list<std::pair<const char*, const at::Tensor*>> kv) {
  py::dict d;
  for (const auto& [k, t] : kv)
    if (t->defined()) d[k] = *t;
  return d;
}

py::dict embedding_dict(const CodeBindEmbedding& e) {
  return defined_tensors({{"shared", &e.z_c}, {"specific", &e.z_s}, {"z", &e.z}, {"shared_codes", &e.shared_codes},
                          {"specific_codes", &e.specific_codes}, {"raw", &e.raw}, {"shared_raw", &e.shared_raw},
                          {"specific_raw", &e.specific_raw}});
}

// Codes of the quantiser's output, as a dict of tensors (graph kept: autograd flows through).
py::dict quantiser_output(const QuantiserOutput& o) {
  return defined_tensors({{"z_c", &o.z_c}, {"z_s", &o.z_s}, {"z", &o.z}, {"commit", &o.commit},
                          {"shared_indices", &o.shared_indices}, {"specific_indices", &o.specific_indices}});
}

std::vector<Modality> parse_modalities(const std::vector<std::string>& names) {
  std::vector<Modality> out;
  for (const auto& n : names) out.push_back(parse_modality(n, "modalities"));
  return out;
}

}  // namespace

void bind(py::module_& m) {
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(input_error.ptr(), e.what());
    }
  });
  m.attr("__version__") = CODEBIND_VERSION;
  m.def("set_threads", [](int n) { configure_threads(n); }, py::arg("n"), "torch/OpenMP threads (0: all cores)");
  m.def("read_safetensors",
        [](const std::string& path) {
          const SafetensorsFile f(path);
          py::dict d;
          for (const std::string& k : f.keys()) d[py::str(k)] = f.get(k).clone();  // own memory: the file closes
          return d;
        },
        py::arg("path"), "every tensor of a .safetensors file (InputError naming the file when it is malformed)");
  m.def("_same_tensor", [](const at::Tensor& t) { return t; },
        "returns its argument through C++ (tests: the data pointer survives the round trip)");

  py::class_<Model, std::shared_ptr<Model>>(m, "_Model")
      .def(py::init<const std::string&, const std::string&>(), py::arg("run"), py::arg("dtype") = "auto",
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("run_dir", [](const Model& x) { return x.rm.run_dir; })
      .def_property_readonly("modalities",
                             [](const Model& x) {
                               std::vector<std::string> v;
                               for (Modality mm : x.rm.model->config().modality_pair) v.push_back(modality_name(mm));
                               return v;
                             })
      .def_property_readonly("dtype", [](const Model& x) { return precision_name(x.rm.model->inference_dtype()); })
      .def("embed_inputs",
           [](Model& x, const std::string& modality, const std::vector<std::string>& inputs, int64_t batch,
              bool progress) {
             const Modality mm = parse_modality(modality, "modality");
             CodeBindEmbedding e;
             {
               py::gil_scoped_release release;
               e = embed_inputs(x.rm, mm, inputs, batch, progress);
             }
             return embedding_dict(e);
           },
           py::arg("modality"), py::arg("inputs"), py::arg("batch") = 16, py::arg("progress") = false)
      .def("embed_tensor",
           [](Model& x, const std::string& modality, const at::Tensor& input) {
             const Modality mm = parse_modality(modality, "modality");
             CB_CHECK_INPUT(x.rm.model->config().has(mm), "{}: the run has no '{}' tower", x.rm.run_dir, modality);
             CodeBindEmbedding e;
             {
               py::gil_scoped_release release;
               e = embed_batch_codebind(*x.rm.model, mm, input);
             }
             return embedding_dict(e);
           },
           py::arg("modality"), py::arg("input"))
      .def("load_inputs",
           [](Model& x, const std::string& modality, const std::vector<std::string>& paths) {
             const Modality mm = parse_modality(modality, "modality");
             CB_CHECK_INPUT(mm != Modality::Text, "load_inputs: texts need no loading (pass them to embed)");
             const std::vector<data::Item> items = query_items(mm, paths);
             std::vector<const data::Item*> ptrs;
             for (const auto& it : items) ptrs.push_back(&it);
             py::gil_scoped_release release;
             return x.rm.inputs->batch(ptrs);
           },
           py::arg("modality"), py::arg("paths"))
      .def("tokenize", [](Model& x, const std::vector<std::string>& texts) { return x.rm.inputs->tokenize(texts); });

  py::class_<MultimodalQuantiser, std::shared_ptr<MultimodalQuantiser>>(m, "_Quantiser")
      .def(py::init([](const std::string& settings_json, int64_t shared_width, int64_t specific_width,
                       const std::vector<std::string>& modalities, uint64_t seed) {
             QuantiserConfig c = QuantiserConfig::from_json(nlohmann::json::parse(settings_json), "quantiser");
             c.shared_width = shared_width;
             c.specific_width = specific_width;
             c.specific_modalities = parse_modalities(modalities);
             c.seed = seed;
             c.validate("quantiser");
             return std::make_shared<MultimodalQuantiser>(c);
           }),
           py::arg("settings_json"), py::arg("shared_width"), py::arg("specific_width"), py::arg("modalities"),
           py::arg("seed"))
      .def("forward",
           [](MultimodalQuantiser& q, const at::Tensor& x, const std::string& modality, bool training,
              int64_t tokens_per_sample) {
             return quantiser_output(q.forward(x, parse_modality(modality, "modality"), training, tokens_per_sample));
           },
           py::arg("x"), py::arg("modality"), py::arg("training"), py::arg("tokens_per_sample") = 1)
      .def("encode",
           [](const MultimodalQuantiser& q, const at::Tensor& x, const std::string& modality) {
             auto [c, s] = q.encode(x, parse_modality(modality, "modality"));
             return py::make_tuple(c, s.defined() ? py::cast(s) : py::none());
           })
      .def("state", [](const MultimodalQuantiser& q) {
        py::dict d;
        for (const auto& [k, t] : q.named_state()) d[py::str(k)] = t;
        return d;
      })
      .def("set_state",
           [](MultimodalQuantiser& q, const std::map<std::string, at::Tensor>& values) {
             at::NoGradGuard no_grad;
             for (auto& [k, t] : q.named_state()) {
               auto it = values.find(k);
               CB_CHECK_INPUT(it != values.end(), "quantiser state: '{}' missing", k);
               CB_CHECK_INPUT(it->second.sizes() == t.sizes(), "quantiser state: '{}' has shape {}, expected {}", k,
                              c10::str(it->second.sizes()), c10::str(t.sizes()));
               if (it->second.data_ptr() != t.data_ptr()) t.copy_(it->second);
             }
             q.after_load();
           })
      .def("config_json", [](const MultimodalQuantiser& q) { return q.config().to_json().dump(); });

  m.def("_evaluate",
        [](const std::string& run, const std::string& data, const std::string& split, const std::string& dtype) {
          nlohmann::json j;
          {
            py::gil_scoped_release release;
            j = evaluate_one(run, data, split, /*plots=*/false, /*quiet=*/true, dtype);
          }
          return to_python(j);
        },
        py::arg("run"), py::arg("data"), py::arg("split") = "test", py::arg("dtype") = "auto");
  m.def("_train",
        [](const std::string& config, const std::string& data, const std::string& out, const std::string& bridge,
           bool force, bool resume, const std::string& dtype, bool quiet) {
          py::gil_scoped_release release;
          TrainOptions o;
          o.data_dir = data;
          o.out_dir = out;
          o.bridge = bridge;
          o.force = force;
          o.resume = resume;
          o.dtype = dtype;
          o.quiet = quiet;
          Trainer t(TrainConfig::load(config), o);
          return t.run();
        },
        py::arg("config"), py::arg("data"), py::arg("out"), py::arg("bridge"), py::arg("force") = false,
        py::arg("resume") = false, py::arg("dtype") = "auto", py::arg("quiet") = true);
  m.def("_read_manifest", [](const std::string& dir) {
    const data::Manifest man = data::Manifest::load(dir);
    py::list items;
    for (const data::Item& it : man.items()) {
      py::dict d;
      d["id"] = it.id;
      d["modality"] = modality_name(it.modality);
      d["split"] = it.split;
      d["labels"] = it.labels;
      d["attrs"] = to_python(it.attrs);
      d["group"] = it.group;
      d["file"] = it.file;
      d["text"] = it.text;
      items.append(d);
    }
    py::dict out;
    out["classes"] = man.info().classes;
    out["items"] = items;
    return out;
  });
  bind_index(m);
}

}  // namespace cb::python

PYBIND11_MODULE(_codebind, m) {
  m.doc() = "codebind's native core (use the `codebind` package, not this module)";
  cb::python::bind(m);
}
