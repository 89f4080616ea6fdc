// bindings.h — the parts of the native module `codebind._codebind`, one function per file.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>

#include "app/index_run.h"

namespace cb::python {

// A trained run's model with its input pipeline (codebooks attached once an index needs them).
struct Model {
  RunModel rm;
  Model(const std::string& run, const std::string& dtype) : rm(open_run_model(run, dtype)) {}
};

void bind(pybind11::module_& m);        // module.cpp: errors, model, quantiser, jobs, manifests
void bind_index(pybind11::module_& m);  // bind_index.cpp: the code index

}  // namespace cb::python
